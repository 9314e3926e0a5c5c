"""English on the 24-hour clock, as the booking pages, the free dates, the mails and every
other language of Parlour show times: "Nov. 23, 2026, 14:00", never "2 p.m." on one page and
"14:00" on the next. Django's other English formats are kept."""

from django.conf.locale.en.formats import *  # noqa: F403

TIME_FORMAT = "H:i"
DATETIME_FORMAT = "N j, Y, H:i"
SHORT_DATETIME_FORMAT = "m/d/Y H:i"
