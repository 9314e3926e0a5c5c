// The booking pages: the calendar follows the visitor's own time zone, and the guest page's
// dialogs open from their buttons, close with Escape and hand the focus back.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // A visitor who has not chosen a zone on the page sees the calendar on their browser's
  // clock, even on a first visit (before the tz cookie reached the server). A signed-in
  // person's pages keep their account's zone (data-follows-browser="false").
  function followBrowserZone() {
    const calendar = document.getElementById("calendar");
    if (!calendar || calendar.dataset.zoneChosen === "true" || calendar.dataset.followsBrowser === "false") return;
    let zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (error) {
      return;
    }
    const select = calendar.querySelector("select[name=tz]");
    if (!zone || zone === calendar.dataset.zone || !select) return;
    if (![...select.options].some((option) => option.value === zone)) return;
    select.value = zone;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    if (!window.htmx) select.form.submit();
  }

  function openDialog(dialog, opener) {
    dialog.returnFocusTo = opener || document.activeElement;
    dialog.showModal();
  }

  document.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-dialog]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.dialog);
      if (dialog) openDialog(dialog, opener);
      return;
    }
    const closer = event.target.closest("dialog [data-close]");
    if (closer) closer.closest("dialog").close();
  });

  document.addEventListener(
    "close",
    function (event) {
      const dialog = event.target;
      if (dialog instanceof HTMLDialogElement && dialog.returnFocusTo) {
        dialog.returnFocusTo.focus();
        dialog.returnFocusTo = null;
      }
    },
    true
  );

  function start() {
    document.querySelectorAll("dialog[data-open-on-load]").forEach(function (dialog) {
      const opener = document.querySelector('[data-dialog="' + dialog.id + '"]');
      openDialog(dialog, opener);
    });
    followBrowserZone();
  }

  if (document.readyState === "complete") start();
  else window.addEventListener("load", start);
})();
