"""The caller's wallet in one organization (C2) and an admin's grant of credits (C3). Credits
move only through ``parlour.credits.ledger``."""

from django.http import HttpRequest
from ninja import Query, Router, Status

from parlour.accounts.access import require_admin
from parlour.credits import ledger
from parlour.credits.models import TransferKind

from .lookups import organization_for, person_of, viewer
from .paging import keyset_page
from .schemas import ERRORS, ErrorOut, GrantIn, GrantOut, MovementPage, PageQuery, WalletOut

router = Router(tags=["credits"])


@router.get("/orgs/{slug}/wallet", response={200: WalletOut, ERRORS: ErrorOut})
def wallet(request: HttpRequest, slug: str):
    """C2: the credits available to spend and those blocked for meetings."""
    organization = organization_for(request, slug)
    balance = ledger.balance_of(organization, viewer(request))
    return {"available": balance.available, "blocked": balance.blocked}


@router.get("/orgs/{slug}/wallet/history", response={200: MovementPage, ERRORS: ErrorOut})
def wallet_history(request: HttpRequest, slug: str, page: Query[PageQuery]):
    """C2: every movement of the caller's credits, newest first, named as the client sees it,
    with its signed effect on what they own."""
    user = viewer(request)
    organization = organization_for(request, slug)
    transfers, next_cursor = keyset_page(ledger.history_of(organization, user), "created_at", page.cursor, page.limit)
    items = [
        {
            "id": transfer.pk,
            "kind": transfer.kind,
            "name": str(TransferKind(transfer.kind).label),
            "amount": ledger.signed_amount(transfer, user),
            "moved": transfer.amount,
            "meeting_id": transfer.meeting_id,
            "at": transfer.created_at,
        }
        for transfer in transfers
    ]
    return {"items": items, "next_cursor": next_cursor}


@router.post("/orgs/{slug}/credits/grant", response={201: GrantOut, ERRORS: ErrorOut})
def grant(request: HttpRequest, slug: str, payload: GrantIn):
    """C3: an admin records credits bought elsewhere for a member or client."""
    admin = viewer(request)
    organization = organization_for(request, slug)
    require_admin(admin, organization, rule="C3")
    user = person_of(organization, payload.user_id)
    transfer = ledger.grant_credits(organization, user, payload.amount, by=admin, note=payload.note)
    balance = ledger.balance_of(organization, user)
    return Status(
        201,
        {
            "transfer_id": transfer.pk,
            "user_id": user.pk,
            "amount": transfer.amount,
            "available": balance.available,
        },
    )
