"""Account pages: sign-up and settings (through `services`), and Django's own log-in and log-out."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from socialsite.errors import ServiceError
from socialsite.ratelimits import limit_page
from socialsite.redirects import local_next

from . import selectors, services
from .forms import SettingsForm, SignUpForm


class _LocalNextMixin:
    """Django's `next` handling (`RedirectURLMixin`), with the site's one rule for a `next`
    (`socialsite.redirects.local_next`): surrounding whitespace dropped before the safety check, so
    " /friends/" leads to /friends/, not to `%20/friends/` (a 404)."""

    def get_redirect_url(self) -> str:
        field = self.redirect_field_name
        value = self.request.POST.get(field, self.request.GET.get(field))
        return local_next(self.request, value, "")


class LoginView(_LocalNextMixin, auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(_LocalNextMixin, auth_views.LogoutView):  # POST only (Django 5)
    pass


@limit_page("sign_up")  # per client address, one budget with the API's sign-up
def signup(request: HttpRequest) -> HttpResponse:
    """Create an account and log in; a refused sign-up shows the service's message on its field."""
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_sign_up(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                email=form.cleaned_data["email"],
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            login(request, user, backend="socialsite.backends.RateLimitedModelBackend")
            messages.success(request, f"Welcome, {user.username}! Your account is ready.")
            return redirect("home")
    return render(request, "accounts/signup.html", {"form": form})


@login_required
def settings_page(request: HttpRequest) -> HttpResponse:
    """My settings (who sees my friend list); saved through the service, then POST/redirect/GET."""
    current = {"friend_list_visibility": selectors.friend_list_visibility_of(user=request.user)}
    form = SettingsForm(request.POST or None, initial=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_settings_update(
                user=request.user, friend_list_visibility=form.cleaned_data["friend_list_visibility"]
            )
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, "Your settings are saved.")
            return redirect("settings")
    return render(request, "accounts/settings.html", {"form": form})
