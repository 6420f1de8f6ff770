from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

# Under /api/, a URL nothing answers is a 404 in the API's error shape.
handler404 = "rcu.apis.errors.api_page_not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("rcu.views.security_urls")),
    # The stewardship, quality and GDPR apps' pages and API are wired here, by module path: the project's
    # URLconf is the one place that knows every app (rcu itself never imports them).
    path("api/v1/", include("stewardship.apis.urls")),
    path("api/v1/quality/", include("quality.apis")),
    path("api/v1/gdpr/", include("gdpr.apis.urls")),
    path("api/v1/", include("gdpr.apis.customer_urls")),
    path("api/", include("rcu.apis.urls")),
    path("stewardship/", include("stewardship.urls")),
    path("quality/", include("quality.urls")),
    path("gdpr/", include("gdpr.urls")),
    path("", include("rcu.views.urls")),
]
