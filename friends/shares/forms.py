"""The new-share form: it only parses; the rules are `services.share_create`'s, so page and API agree."""

from __future__ import annotations

from django import forms

from .validation import ALLOWED_SUMMARY, CAPTION_MAX, URL_MAX, UploadRefused, size_limit_text

# Which field a refusal belongs to (by `UploadRefused.code`); anything else is a form-wide error.
_FIELD_OF = {
    "file_name": "file",
    "too_large": "file",
    "empty_file": "file",
    "file_type": "file",
    "image": "file",
    "url": "url",
    "caption": "caption",
}


class ShareForm(forms.Form):
    file = forms.FileField(required=False, label="File", allow_empty_file=True)
    url = forms.CharField(
        required=False,
        label="Link",
        strip=True,
        widget=forms.URLInput(attrs={"maxlength": URL_MAX, "placeholder": "https://…", "inputmode": "url"}),
    )
    caption = forms.CharField(
        required=False,
        label="Caption",
        widget=forms.Textarea(attrs={"maxlength": CAPTION_MAX, "rows": 3}),
        help_text=f"At most {CAPTION_MAX} characters.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = f"At most {size_limit_text()}: {ALLOWED_SUMMARY}."
        # The form only parses: no max_length validators here, the service says it (once, one wording).
        self.fields["url"].validators = []
        self.fields["caption"].validators = []

    def add_refusal(self, refusal: UploadRefused) -> None:
        """Show a refusal next to the field it is about. A file has to be chosen again (browsers never
        refill a file input); the link and caption keep what was typed."""
        field = _FIELD_OF.get(refusal.code)
        message = refusal.message
        if field != "file" and self.files.get("file"):
            message += " Choose the file again."
        self.add_error(field, message)
