// Copy buttons (data-copies="<input id>") for a secret shown once: an API token, a feed's
// address. (The confirmation dialogs are parlour.js's.)
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    const copier = event.target.closest("[data-copies]");
    if (!copier) return;
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
  });
})();
