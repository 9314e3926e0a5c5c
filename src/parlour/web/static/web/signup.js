// The sign-up page: the time zone select follows the browser's own zone, as the booking
// calendar does, unless the visitor has chosen one already (the form shown again after an
// error keeps what was sent: data-follows-browser="false").
(function () {
  "use strict";
  function followBrowserZone() {
    const select = document.querySelector("select[data-follows-browser=true]");
    if (!select) return;
    let zone;
    try {
      zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    } catch (error) {
      return;
    }
    if (zone && [...select.options].some((option) => option.value === zone)) select.value = zone;
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", followBrowserZone);
  else followBrowserZone();
})();
