"""Receive Replicate's webhooks: check their signature, then decode their body.

Replicate signs every delivery per Standard Webhooks (``webhook-id``, ``webhook-timestamp`` and
``webhook-signature`` headers, HMAC-SHA256 with your account's ``whsec_`` secret, which
``GET /v1/webhooks/default/secret`` returns). Verify the raw body *before* parsing it::

    from starlette.requests import Request
    from starlette.responses import Response

    from replicate_async import webhooks


    async def replicate_webhook(request: Request) -> Response:
        body = await request.body()  # the raw bytes: re-serialised JSON would not verify
        try:
            webhooks.verify(request.headers, body, SECRET)
        except webhooks.WebhookVerificationError:
            return Response(status_code=400)
        prediction = webhooks.parse(body)
        ...
        return Response(status_code=204)

Deliveries can repeat (the ``completed`` one is retried until answered with 2xx, under the same
``webhook-id``) and can arrive out of order, so handle them idempotently.

To wait for predictions through their webhooks instead of polling, hand each delivery to a
`WebhookWaiter` (also importable from here): ``await waiter.deliver(request.headers, body)``
in the endpoint, ``await waiter.wait(prediction)`` wherever the result is needed.
"""

from __future__ import annotations

from replicate_async._resources.webhooks import WebhookWaiter
from replicate_async._sansio.deliveries import (
    DEFAULT_TOLERANCE,
    WEBHOOK_EVENTS,
    HeadersLike,
    WebhookEvent,
    parse,
    verify,
)
from replicate_async.exceptions import WebhookVerificationError

__all__ = [
    "DEFAULT_TOLERANCE",
    "WEBHOOK_EVENTS",
    "HeadersLike",
    "WebhookEvent",
    "WebhookVerificationError",
    "WebhookWaiter",
    "parse",
    "verify",
]
