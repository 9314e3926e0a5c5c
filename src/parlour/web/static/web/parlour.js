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
