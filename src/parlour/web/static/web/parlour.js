// What every page shares: the visitor's time zone, told to Parlour once (a cookie), so that
// pages for people who are not signed in show times on their own clock (D4, Q1).
(function () {
  "use strict";
  try {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && !document.cookie.split("; ").some((c) => c === "tz=" + encodeURIComponent(zone))) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (error) {
    // No Intl time zone: times stay in UTC, which the pages say.
  }
})();

// Confirmation dialogs: a button with data-opens="<dialog id>" opens it, a button with
// data-closes (or Escape) closes it, and focus goes back to the button that opened it.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const opener = event.target.closest("[data-opens]");
    if (opener) {
      const dialog = document.getElementById(opener.dataset.opens);
      if (dialog && !dialog.open) {
        dialog.returnFocusTo = opener;
        dialog.showModal();
      }
      return;
    }
    const closer = event.target.closest("[data-closes]");
    if (closer) closer.closest("dialog").close();
  });
  // "close" does not bubble: listen while it goes down.
  document.addEventListener("close", function (event) {
    const dialog = event.target;
    if (dialog instanceof HTMLDialogElement && dialog.returnFocusTo) {
      dialog.returnFocusTo.focus();
      dialog.returnFocusTo = null;
    }
  }, true);
})();
