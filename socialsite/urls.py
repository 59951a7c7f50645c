from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from .health import healthz
from .views import stats_page, task_detail

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include("socialsite.api_urls")),
    path("tasks/<uuid:task_id>/", task_detail, name="task-detail"),
    path("stats/", stats_page, name="stats"),
    path("", include("friends.urls")),
]
