"""REST API of shares, under `/api/v1/`: views parse input and call services (writes) or selectors (reads).

Ids are routed as strings so a malformed one gets the API's JSON 404. Someone who may not see a share
(not the owner, not a current friend) gets the same 404 as for an unknown id, downloads included.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from socialsite.errors import NotFound
from socialsite.parsers import JSONParser

from ..models import Share
from . import responses, selectors, services
from . import serializers as s
from .uploads import upload_refusal

SHARE_ID = OpenApiParameter("share_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="Share id.")


def _share_id(value: str) -> int:
    if not (value.isascii() and value.isdigit()) or len(value) > 18:
        raise NotFound("No such share.")
    return int(value)


def _visible_share(request: Request, share_id: str) -> Share:
    """The share named in the URL if the requester may see it; else the API's JSON 404 (`NotFound`)."""
    return selectors.share_get(viewer=request.user, share_id=_share_id(share_id))


class _FirstRenderer(BaseContentNegotiation):
    """Downloads answer bytes whatever the client accepts, and errors JSON: never a 406."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema(tags=["shares"])
class ShareListCreateApi(generics.GenericAPIView):
    serializer_class = s.ShareSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(responses=s.ShareSerializer(many=True))
    def get(self, request: Request) -> Response:
        """My friends' shares and mine, newest first."""
        page = self.paginate_queryset(selectors.shares_feed(viewer=request.user))
        return self.get_paginated_response(s.ShareSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        request={"multipart/form-data": s.ShareCreateInputSerializer, "application/json": s.ShareCreateInputSerializer},
        responses={201: s.ShareSerializer, 400: OpenApiResponse(description="Refused input"), 413: None},
    )
    def post(self, request: Request) -> Response:
        """Share a file and/or an http(s) link with my friends.

        The file is checked by content against an allow-list (images, PDF, text, office documents,
        archives), limited in size while it streams in (413 past the limit), and processed afterwards
        (checksum, thumbnail): the answer is `processing` with the `task_id` to poll, then `ready`.
        """
        data = request.data  # parsing may stop the upload (size limit, path-like file name)
        if refusal := upload_refusal(request):
            raise refusal
        serializer = s.ShareCreateInputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        share = services.share_create(owner=request.user, **serializer.validated_data)
        return Response(s.ShareSerializer(share, context={"request": request}).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["shares"], parameters=[SHARE_ID])
class ShareDetailApi(APIView):
    @extend_schema(responses=s.ShareSerializer)
    def get(self, request: Request, share_id: str) -> Response:
        """One share, if I own it or its owner is my friend now."""
        return Response(s.ShareSerializer(_visible_share(request, share_id), context={"request": request}).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, share_id: str) -> Response:
        """Delete my share; its file goes too. A friend's share is 403, anyone else's 404."""
        services.share_delete(share_id=_share_id(share_id), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["shares"], parameters=[SHARE_ID])
class ShareDownloadApi(APIView):
    content_negotiation_class = _FirstRenderer

    # Served with the type detected from its content (image/png, application/pdf, ...), as an attachment.
    @extend_schema(responses={(200, "*/*"): OpenApiTypes.BINARY})
    def get(self, request: Request, share_id: str):
        """The file, as an attachment (owner and current friends only)."""
        # Its Http404 is the API's JSON 404, with its message.
        return responses.download_response(_visible_share(request, share_id))


@extend_schema(tags=["shares"], parameters=[SHARE_ID])
class ShareThumbnailApi(APIView):
    content_negotiation_class = _FirstRenderer

    @extend_schema(responses={(200, "image/webp"): OpenApiTypes.BINARY})
    def get(self, request: Request, share_id: str):
        """The preview of an image share, once processed (owner and current friends only)."""
        return responses.thumbnail_response(_visible_share(request, share_id))
