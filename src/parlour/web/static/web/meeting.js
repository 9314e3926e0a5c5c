// The meeting page's dialogs (area B): a button opens its <dialog> as a modal (focus moves
// in, Escape closes it, focus returns to the button). Without this script the button asks
// the server for the page with that dialog open, and every form still posts on its own.
(function () {
  "use strict";
  let opener = null;

  function focusInside(root) {
    const target = root.querySelector("[data-focus], [autofocus]") ||
      root.querySelector("input:not([type=hidden]), select, textarea, button");
    if (target) target.focus();
  }

  function open(dialog, from) {
    if (typeof dialog.showModal !== "function") return false;
    opener = from || null;
    if (dialog.open) dialog.close();
    dialog.showModal();
    focusInside(dialog);
    return true;
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-dialog]");
    if (!button) return;
    const dialog = document.getElementById(button.dataset.dialog);
    if (dialog && open(dialog, button)) event.preventDefault();
  });

  document.querySelectorAll("dialog.action").forEach(function (dialog) {
    dialog.addEventListener("close", function () {
      const back = opener || document.querySelector('[data-dialog="' + dialog.id + '"]');
      opener = null;
      if (back && document.contains(back)) back.focus();
    });
  });

  // htmx put a dialog's second step or its errors in place: move focus to them.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    const dialog = event.target.closest ? event.target.closest("dialog") : null;
    if (dialog) focusInside(event.target);
  });

  // The server opened a dialog (after a refusal, or asked without this script): modal it.
  const shown = document.querySelector("dialog.action[open]");
  if (shown) {
    shown.removeAttribute("open");
    open(shown, document.querySelector('[data-dialog="' + shown.id + '"]'));
  }
})();
