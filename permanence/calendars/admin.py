from django.contrib import admin

from .models import Announcement, BusinessCalendar, Closure


class ClosureInline(admin.TabularInline):
    model = Closure
    extra = 0


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    list_display = ["name", "timezone", "holidays"]
    inlines = [ClosureInline]


admin.site.register(Announcement)
