from django.contrib import admin

from .models import WorkerHeartbeat

admin.site.register(WorkerHeartbeat)
