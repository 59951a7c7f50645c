from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .api import JsonErrorsMixin
from .health import healthz
from .views import favicon, stats_page, task_detail, task_list


class SchemaApi(JsonErrorsMixin, SpectacularAPIView):
    pass


class DocsPage(JsonErrorsMixin, SpectacularSwaggerSplitView):
    pass


# Swagger UI sets inline styles and loads its icons as data: URLs; scripts stay 'self' only.
swagger_docs = csp_update({"style-src": ["'unsafe-inline'"]})(DocsPage.as_view(url_name="schema"))

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("api/schema/", SchemaApi.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the page needs no inline script (CSP).
    path("api/docs/", swagger_docs, name="api-docs"),
    path("api/v1/", include("socialsite.api_urls")),
    path("tasks/", task_list, name="task-list"),
    path("tasks/<uuid:task_id>/", task_detail, name="task-detail"),
    path("", include("accounts.urls")),
    path("notifications/", include("notifications.urls")),
    path("stats/", stats_page, name="stats"),
    path("", include("friends.urls")),
]

# Under /api/ these answer in the API's JSON error format; elsewhere Django's own pages.
handler400 = "socialsite.error_views.bad_request"
handler403 = "socialsite.error_views.permission_denied"
handler404 = "socialsite.error_views.page_not_found"
handler500 = "socialsite.error_views.server_error"
