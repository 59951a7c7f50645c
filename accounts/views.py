"""Account pages: sign-up (through `services.user_sign_up`), and Django's own log-in and log-out."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from socialsite.errors import ServiceError
from socialsite.ratelimits import limit_page

from . import services
from .forms import SignUpForm


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


LogoutView = auth_views.LogoutView  # POST only (Django 5)


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
