// Area F: confirmation dialogs. A button with data-opens="<dialog id>" opens it; a button
// with data-closes (or Escape) closes it; focus goes back to the opener.
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
  document.addEventListener("close", function (event) {
    const dialog = event.target;
    if (dialog instanceof HTMLDialogElement && dialog.returnFocusTo) {
      dialog.returnFocusTo.focus();
      dialog.returnFocusTo = null;
    }
  }, true);
})();
