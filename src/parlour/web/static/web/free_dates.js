// Area E: the free dates page. htmx posts its forms and swaps the page's #free-dates part;
// a refusal (400) carries the page with the errors, so it is swapped in too. A row's Remove
// button takes the row out and saves the week (without script it posts remove=<row>).
(function () {
  "use strict";
  if (window.htmx) {
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "400", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
      { code: "...", swap: false },
    ];
  }
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-remove-row]");
    const form = button && button.closest("form");
    if (!form || !window.htmx) return;
    event.preventDefault();
    const list = button.closest("ul");
    focusAfter = list ? list.id : null;
    button.closest("li").remove();
    form.requestSubmit();
  });
  // After the week is saved, the focus goes to the day's "Add an interval" button, where
  // the removed row was.
  let focusAfter = null;
  document.addEventListener("htmx:afterSettle", function () {
    const list = focusAfter && document.getElementById(focusAfter);
    focusAfter = null;
    const add = list && list.parentElement.querySelector("button.add");
    if (add) add.focus();
  });
})();
