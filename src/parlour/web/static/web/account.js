// Area D: confirmation dialogs (a button with data-opens="<dialog id>" opens it; a button
// with data-closes closes it; Escape closes it too; focus goes back to the opener), and
// copy buttons (data-copies="<input id>") for a secret shown once.
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
    if (closer) {
      closer.closest("dialog").close();
      return;
    }
    const copier = event.target.closest("[data-copies]");
    if (copier) {
      const input = document.getElementById(copier.dataset.copies);
      const said = copier.parentElement.parentElement.querySelector(".copied");
      input.focus();
      input.select();
      const done = function () { if (said) said.textContent = copier.dataset.copied || "✓"; };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    }
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
