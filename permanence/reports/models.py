from __future__ import annotations

from django.db import models

from permanence.accounts.models import ClientAccount


class MonthlyReportSend(models.Model):
    """The monthly activity report of one account for one month was announced to its clients
    (once: the scheduler's job claims the row before queueing the e-mail). The report itself
    is not stored: it is computed from the data whenever it is opened, so it never disagrees
    with the live figures."""

    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE, related_name="+")
    month = models.DateField()  # the first day of the month reported
    sent_at = models.DateTimeField()
    recipients = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "month"],
                                               name="monthly_report_once")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.month:%Y-%m}"
