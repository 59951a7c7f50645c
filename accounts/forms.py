"""Forms of the pages: they parse and check the shape of input; the rules live in services."""

from __future__ import annotations

from django import forms

from socialsite.errors import ServiceError

from .models import FriendListVisibility
from .services import username_available_check


class SignUpForm(forms.Form):
    """Username, optional e-mail, password typed twice.

    Password strength and username rules are checked by `accounts.services.user_sign_up`, so the page
    and the API refuse exactly the same input; `add_service_error` puts its message on the right field.
    """

    username = forms.CharField(
        max_length=150,
        help_text="Letters, digits and @/./+/-/_ only.",
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    email = forms.EmailField(
        label="Email (optional)", required=False, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="Password again",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_username(self) -> str:
        """A taken or refused name is said with the form's other errors, not after they are mended."""
        username = self.cleaned_data["username"]
        try:
            username_available_check(username=username)
        except ServiceError as exc:
            raise forms.ValidationError(exc.message, code=exc.code) from exc
        return username

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password1") and data.get("password2") and data["password1"] != data["password2"]:
            self.add_error("password2", "The two passwords do not match.")
        return data

    def add_service_error(self, exc: ServiceError) -> None:
        """Show a refused sign-up next to the field it is about."""
        field = {"username": "username", "password": "password1"}.get(exc.code)
        self.add_error(field, exc.message)


class SettingsForm(forms.Form):
    """The owner's settings; `accounts.services.profile_settings_update` applies them."""

    friend_list_visibility = forms.ChoiceField(
        label="Who sees my friend list",
        choices=FriendListVisibility.choices,
        widget=forms.RadioSelect,
        help_text="Your mutual friends with someone are shown to that person whatever you choose here.",
    )
