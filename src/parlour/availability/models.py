"""An expert's free dates (E3), stated in the expert's own time zone (their profile's).

Weekly hours repeat every week; a dated exception adds or removes hours on one local date
(or takes the whole day off); time off is a span of real time (a holiday, a conference).
The per-expert limits — minimum notice, buffers, meetings a day — are on the profile."""

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from parlour.catalog.models import ExpertProfile


def _check_span(start, end) -> None:
    # An end of 00:00 means midnight at the end of the day.
    if start is not None and end is not None and end != end.replace(hour=0, minute=0) and end <= start:
        raise ValidationError(_("The end must come after the start (use 00:00 for midnight)."))


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WeeklyHours(models.Model):
    profile = models.ForeignKey(ExpertProfile, on_delete=models.CASCADE, related_name="weekly_hours")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start = models.TimeField()
    end = models.TimeField(help_text="00:00 means midnight at the end of the day.")

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name_plural = "weekly hours"

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        _check_span(self.start, self.end)


class ExceptionKind(models.TextChoices):
    ADD = "add", _("Extra hours")
    REMOVE = "remove", _("Hours off")
    DAY_OFF = "day_off", _("Whole day off")


class DateException(models.Model):
    profile = models.ForeignKey(ExpertProfile, on_delete=models.CASCADE, related_name="date_exceptions")
    date = models.DateField()
    kind = models.CharField(max_length=10, choices=ExceptionKind.choices)
    start = models.TimeField(null=True, blank=True)
    end = models.TimeField(null=True, blank=True)

    class Meta:
        ordering = ["date", "start"]
        indexes = [models.Index(fields=["profile", "date"])]

    def __str__(self) -> str:
        if self.kind == ExceptionKind.DAY_OFF:
            return f"{self.date}: day off"
        return f"{self.date}: {self.get_kind_display()} {self.start:%H:%M}–{self.end:%H:%M}"

    def clean(self) -> None:
        if self.kind != ExceptionKind.DAY_OFF and (self.start is None or self.end is None):
            raise ValidationError(_("Extra hours and hours off need a start and an end."))
        _check_span(self.start, self.end)


class TimeOff(models.Model):
    profile = models.ForeignKey(ExpertProfile, on_delete=models.CASCADE, related_name="time_off")
    start = models.DateTimeField()
    end = models.DateTimeField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "time off"
        indexes = [models.Index(fields=["profile", "end"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")), name="time_off_ends_after_start")
        ]

    def __str__(self) -> str:
        return f"Time off {self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M} UTC"


class ExternalBusy(models.Model):
    """Busy times imported from the expert's external calendar (K4); filled by the CalDAV
    source, read by the slots as they are (no buffers)."""

    profile = models.ForeignKey(ExpertProfile, on_delete=models.CASCADE, related_name="external_busy")
    start = models.DateTimeField()
    end = models.DateTimeField()

    class Meta:
        ordering = ["start"]
        verbose_name_plural = "external busy times"
        indexes = [models.Index(fields=["profile", "end"])]

    def __str__(self) -> str:
        return f"Busy {self.start:%Y-%m-%d %H:%M}–{self.end:%Y-%m-%d %H:%M} UTC"
