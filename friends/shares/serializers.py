"""Shapes of the shares API: the input serializer only parses, the output serializer only renders."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Share


class ShareCreateInputSerializer(serializers.Serializer):
    """Multipart (`file` and/or `url`, `caption`) or JSON for a link. The rules (type, size, name, link
    scheme, caption length) are the service's, so the page and the API refuse exactly the same input."""

    file = serializers.FileField(required=False, allow_empty_file=True, use_url=False)
    url = serializers.CharField(required=False, allow_blank=True, default="", help_text="An http(s) link.")
    caption = serializers.CharField(required=False, allow_blank=True, default="")


class ShareFileSerializer(serializers.Serializer):
    name = serializers.CharField(source="original_name", help_text="The name it was uploaded with.")
    size = serializers.IntegerField(help_text="Bytes.")
    content_type = serializers.CharField(help_text="Detected from the content.")
    checksum = serializers.CharField(help_text="SHA-256, hex; empty until processed.")
    download_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_download_url(self, share: Share) -> str:
        return self._absolute(reverse("api-share-download", args=[share.pk]))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_thumbnail_url(self, share: Share) -> str | None:
        return self._absolute(reverse("api-share-thumbnail", args=[share.pk])) if share.thumbnail else None


class ShareSerializer(serializers.ModelSerializer):
    """A share as its owner or a friend sees it. `task_id` (the processing task, readable at
    `tasks/{id}/`) is shown to the owner only, whose task it is."""

    owner = serializers.CharField(source="owner.username")
    url = serializers.CharField(read_only=True, help_text="The shared http(s) link; empty for a file-only share.")
    file = serializers.SerializerMethodField()
    task_id = serializers.SerializerMethodField()

    class Meta:
        model = Share
        fields = ["id", "owner", "caption", "url", "file", "state", "failure_reason", "task_id", "created_at"]
        read_only_fields = fields

    @extend_schema_field(ShareFileSerializer(allow_null=True))
    def get_file(self, share: Share) -> dict | None:
        return ShareFileSerializer(share, context=self.context).data if share.file else None

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_task_id(self, share: Share) -> str | None:
        request = self.context.get("request")
        mine = request is not None and request.user.pk == share.owner_id
        return str(share.processing_task_id) if mine and share.processing_task_id else None
