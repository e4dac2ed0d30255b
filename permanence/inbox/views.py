from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Page, Paginator
from django.db.models.sql.where import WhereNode
from django.http import FileResponse, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from permanence.accounts.forms import apply_field_errors
from permanence.accounts.models import User
from permanence.accounts.selectors import accounts_visible_to
from permanence.core import clock
from permanence.core.access import AuthedHttpRequest, role_required, safe_next, staff_required
from permanence.core.counting import count_label
from permanence.core.errors import DomainError, Forbidden, NotFound

from . import manual, permissions, reach, selectors, services
from .canned import canned_for
from .complaints.views import complaint_forms
from .forms import (
    AssignForm,
    BulkForm,
    CallbackDoneForm,
    CallbackPlanForm,
    ManualEntryForm,
    MergeForm,
    NoteForm,
    OrderLinkForm,
    PhoneMessageForm,
    QualifyForm,
    ReplyForm,
    StatusForm,
)
from .models import (
    Attachment,
    Channel,
    Conversation,
    Delivery,
    Kind,
    Message,
    Notification,
    Status,
)

PAGE_SIZE = 50
# Counting every match of a large inbox costs more than the page itself: beyond this many,
# the list says "1 000+" and offers the first pages only.
COUNT_CAP = 1000


class CappedPaginator(Paginator):
    def __init__(self, object_list: Any, per_page: int, *, count_list: Any = None) -> None:
        super().__init__(object_list, per_page)
        # The same rows written for counting, when that is cheaper (a full-text search).
        self.count_list = object_list if count_list is None else count_list

    @property
    def count(self) -> int:  # type: ignore[override]
        if not hasattr(self, "_capped_count"):
            rows = self.count_list.order_by().values("pk")
            self._capped_count = rows[:COUNT_CAP + 1].count()
        return self._capped_count

    @property
    def capped(self) -> bool:
        return self.count > COUNT_CAP

    def page(self, number: Any) -> Any:
        """The page's ids first, then its rows: `pk IN (SELECT pk … ORDER BY … LIMIT/OFFSET)`.

        Still one query. The subquery holds every filter and only needs what the list
        indexes hold (order, account, status, id): PostgreSQL reads it from the index alone
        and checks an agent's accounts on the index entries, instead of fetching every row it
        skips (thousands for an agent whose accounts are a small part of the inbox); for a
        search, the matching ids are sorted before anything is joined. The outer query only
        reads, joins and annotates the page's rows, in the same order."""
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows: Any = self.object_list
        query = rows.query
        # DISTINCT (the "team" view: filters through many-to-many joins) pages plainly.
        if not query.distinct and not query.combinator:
            ids = rows.values("pk")[bottom:top]
            rows = rows.all()
            rows.query.where = WhereNode()  # the filters are in `ids`: not run twice
            rows = rows.filter(pk__in=ids)
        else:
            rows = rows[bottom:top]
        return Page(rows, number, self)


NOTE_IDS = "id_note_%s"


def _filters(request: AuthedHttpRequest) -> dict[str, str]:
    g = request.GET
    return {k: g.get(k, "").strip() for k in ("view", "account", "channel", "status", "kind",
                                               "assignee", "q", "sort")}


@staff_required
def inbox(request: AuthedHttpRequest) -> HttpResponse:
    f = _filters(request)
    f["view"] = f["view"] if f["view"] in selectors.VIEWS else "open"
    if not f["sort"] and f["status"] in (Status.RESOLVED, Status.CLOSED):
        f["sort"] = "recent"  # no deadline to sort by once a conversation is done
    filters: dict[str, Any] = {k: v for k, v in f.items() if v}
    qs = selectors.inbox_list(request.user, **filters)
    page = CappedPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    counts = selectors.inbox_counts(request.user)
    context = {
        "page": page, "f": f, "views": selectors.VIEWS,
        "counts": counts,
        "count_labels": {k: count_label(v) for k, v in counts.items()},
        "accounts": selectors.filter_accounts(request.user, f["account"]),
        "channels": Channel.choices, "statuses": Status.choices, "kinds": Kind.choices,
        "agents": _agents(), "now": clock.now(),
        "can_work": permissions.can_work_conversations(request.user),
        "presence": selectors.presence_of(request.user),
    }
    template = "inbox/inbox.html#results" if request.htmx else "inbox/inbox.html"
    return render(request, template, context)


@staff_required
def unread(request: AuthedHttpRequest) -> HttpResponse:
    """The menu's unread count, re-read when the inbox websocket says something changed."""
    count = selectors.inbox_unread_count(request.user)
    return JsonResponse({"count": count, "label": selectors.unread_label(count)},
                        headers={"Cache-Control": "no-store"})


def _agents() -> list[User]:
    return selectors.assignable_staff_list()


# The page's folds that load when opened (?ouvrir=…): their forms or list are rendered only
# then (or when a form comes back with errors). Closed, each holds a link to its own URL,
# which htmx follows on opening; the page stays whole without JavaScript.
FOLDS = ("qualification", "commande", "fusion", "historique")


def _conversation_context(request: AuthedHttpRequest, conversation: Conversation,
                          open_fold: str = "", **forms: Any) -> dict[str, Any]:
    can_work = permissions.can_work_conversations(request.user)
    complaint = getattr(conversation, "complaint", None)
    contact = conversation.contact
    # Fetched here, not by the template: the reply region reads the pending call back in it.
    timeline = list(selectors.timeline_shown(conversation))
    context = {
        "c": conversation,
        "timeline": timeline,
        "statuses": Status.choices,
        "now": clock.now(),
        "can_work": can_work,
        # A resolved or closed case offers "Rouvrir" instead of the reply form.
        "is_done": conversation.status in (Status.RESOLVED, Status.CLOSED),
        "resolved": Status.RESOLVED, "reopened": Status.OPEN, "closed": Status.CLOSED,
        "open_fold": open_fold,
        "history": (conversation.status_changes.select_related("actor")
                    if open_fold == "historique" else None),
        "complaint": complaint,
        "complaint_form": complaint_forms(complaint) if can_work else {},
        # A survey is sent on resolution, which the timeline always records: no query for
        # a conversation never resolved.
        "surveys": (conversation.surveys.filter(answered_at__isnull=False)
                    if _resolved_once(conversation, timeline) else []),
        "contact_conversations": selectors.contact_other_conversations(request.user,
                                                                        conversation),
        "contact_search": (contact.email or contact.phone) if contact else "",
    }
    if can_work:  # the forms, for those who may use them
        context.update({
            "reply_form": forms.get("reply_form") or ReplyForm(),
            # Own ids: the reply form's "body" is already id_body on the same page.
            "note_form": forms.get("note_form") or NoteForm(auto_id=NOTE_IDS),
            "qualify_form": forms.get("qualify_form") or (
                QualifyForm(initial=_qualify_initial(conversation))
                if open_fold == "qualification" else None),
            "merge_form": forms.get("merge_form") or (
                MergeForm() if open_fold == "fusion" else None),
            "order_form": forms.get("order_form") or (OrderLinkForm(
                initial={"order": conversation.order.reference if conversation.order else ""})
                if open_fold == "commande" else None),
            "agent_choices": [(u.pk, u.full_name or u.email) for u in _agents()],
            "canned": canned_for(conversation, request.user),
            **_reply_context(conversation, forms, timeline),
        })
    return context


def _qualify_initial(conversation: Conversation) -> dict[str, Any]:
    return {"subject": conversation.subject, "priority": conversation.priority,
            "kind": conversation.kind, "category": conversation.category,
            "motif": conversation.motif,
            "tags": ", ".join(t.name for t in conversation.tags.all())}


def _resolved_once(conversation: Conversation, timeline: list[Message]) -> bool:
    done = (Status.RESOLVED, Status.CLOSED)
    return any(m.conversation_id == conversation.pk and m.event == "status"
               and isinstance(m.data, dict) and m.data.get("to") in done for m in timeline)


def _reply_context(conversation: Conversation, forms: dict[str, Any],
                   timeline: list[Message]) -> dict[str, Any]:
    """The reply-form region: where a reply would go, or why none can be sent and the call
    back forms offered instead."""
    routes = reach.reply_channels(conversation)
    return {
        "reply_route": routes[0] if routes else None,
        "unreachable": "" if routes else reach.unreachable_reason(conversation),
        "callback_done_form": forms.get("callback_done_form") or CallbackDoneForm(
            auto_id="id_cb_done_%s"),
        "callback_plan_form": forms.get("callback_plan_form") or CallbackPlanForm(
            auto_id="id_cb_plan_%s"),
        "callback_pending": selectors.callback_pending_in(timeline, conversation),
    }


@staff_required
def conversation_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_page(request.user, pk)
    if isinstance(conversation, int):  # merged since: its old links lead to the target
        return redirect("inbox:detail", pk=conversation)
    # One write at most: the read marker, which also keeps the view for the audit log.
    services.conversation_viewed(user=request.user, conversation=conversation,
                                 marker=selectors.viewer_marker(conversation))
    fold = request.GET.get("ouvrir", "")
    return render(request, "inbox/conversation.html", _conversation_context(
        request, conversation, open_fold=fold if fold in FOLDS else ""))


@staff_required
def conversation_timeline(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The timeline fragment, re-fetched when the websocket says something changed."""
    conversation = selectors.get_conversation_for_user(request.user, pk)
    services.conversation_viewed(user=request.user, conversation=conversation)
    return render(request, "inbox/_timeline.html", {
        "c": conversation, "now": clock.now(), "timeline": selectors.timeline_shown(conversation),
        # As on the full page: without it the "Scinder" buttons vanish on a live refresh.
        "can_work": permissions.can_work_conversations(request.user)})


def _fail(request: AuthedHttpRequest, conversation: Conversation, exc: DomainError,
          **forms: Any) -> HttpResponse:
    shown: set[str] = set()
    for form in forms.values():
        apply_field_errors(form, {k: v for k, v in exc.fields.items() if k in form.fields},
                           str(exc.message))
        shown.update(form.fields)
    messages.error(request, str(exc.message))
    # Field errors no form on the page can show (e.g. the assignee select) become messages.
    for key, msgs in exc.fields.items():
        if key not in shown:
            for msg in msgs:
                messages.error(request, str(msg))
    return render(request, "inbox/conversation.html",
                  _conversation_context(request, conversation, **forms), status=exc.status)


@require_POST
@staff_required
def reply(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, action="work")
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(request, "inbox/conversation.html",
                      _conversation_context(request, conversation, reply_form=form), status=422)
    try:
        message = services.conversation_reply(
            actor=request.user, conversation=conversation, body=form.cleaned_data["body"],
            attachments=form.cleaned_data["attachments"],
            status_after=form.cleaned_data["status_after"] or None)
    except DomainError as exc:
        return _fail(request, conversation, exc, reply_form=form)
    # Only what happened: queued for its channel, or published in the espace client.
    in_portal = conversation.channel == Channel.PORTAL
    if message.delivery_status == Delivery.SENT:
        messages.success(request, _("Réponse publiée dans l'espace client."))
    elif in_portal:
        messages.success(request, _("Réponse publiée dans l'espace client et mise en file "
                                    "d'envoi vers %(to)s.") % {"to": ", ".join(message.recipients)})
    else:
        messages.success(request, _("Réponse mise en file d'envoi vers %(to)s.") % {
            "to": ", ".join(message.recipients)})
    return redirect("inbox:detail", pk=pk)


@require_POST
@staff_required
def callback_done(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """« Rappel effectué »: a call back made, with what was said."""
    conversation = selectors.get_conversation_for_user(request.user, pk, action="work")
    form = CallbackDoneForm(request.POST, auto_id="id_cb_done_%s")
    if not form.is_valid():
        return render(request, "inbox/conversation.html", _conversation_context(
            request, conversation, callback_done_form=form), status=422)
    try:
        services.conversation_callback_done(actor=request.user, conversation=conversation,
                                            note=form.cleaned_data["note"])
    except DomainError as exc:
        return _fail(request, conversation, exc, callback_done_form=form)
    messages.success(request, _("Rappel enregistré."))
    return redirect("inbox:detail", pk=pk)


@require_POST
@staff_required
def callback_plan(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """« Rappeler plus tard »: a call back to make, at a given time."""
    conversation = selectors.get_conversation_for_user(request.user, pk, action="work")
    form = CallbackPlanForm(request.POST, auto_id="id_cb_plan_%s")
    if not form.is_valid():
        return render(request, "inbox/conversation.html", _conversation_context(
            request, conversation, callback_plan_form=form), status=422)
    try:
        services.conversation_callback_plan(actor=request.user, conversation=conversation,
                                            at=form.cleaned_data["at"],
                                            note=form.cleaned_data["note"])
    except DomainError as exc:
        return _fail(request, conversation, exc, callback_plan_form=form)
    messages.success(request, _("Rappel prévu."))
    return redirect("inbox:detail", pk=pk)


@require_POST
@staff_required
def note(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, action="work")
    form = NoteForm(request.POST, auto_id=NOTE_IDS)
    if not form.is_valid():
        return render(request, "inbox/conversation.html",
                      _conversation_context(request, conversation, note_form=form), status=422)
    try:
        services.conversation_add_note(actor=request.user, conversation=conversation,
                                       body=form.cleaned_data["body"])
    except DomainError as exc:
        return _fail(request, conversation, exc, note_form=form)
    messages.success(request, _("Note ajoutée."))
    return redirect("inbox:detail", pk=pk)


@require_POST
@staff_required
def set_status(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, action="work")
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            services.conversation_set_status(actor=request.user, conversation=conversation,
                                             status=form.cleaned_data["status"])
        except DomainError as exc:
            return _fail(request, conversation, exc)
        messages.success(request, _("Statut mis à jour."))
    else:
        messages.error(request, _("Statut invalide."))
    return redirect("inbox:detail", pk=pk)


@require_POST
@staff_required
def assign(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, action="work")
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Sélection invalide."))
        return redirect("inbox:detail", pk=pk)
    uid = form.cleaned_data["assignee"]
    assignee = User.objects.filter(pk=uid).first() if uid else None
    if uid and assignee is None:
        raise NotFound(_("Utilisateur introuvable."))
    try:
        services.conversation_assign(actor=request.user, conversation=conversation,
                                     assignee=assignee)
    except DomainError as exc:
        return _fail(request, conversation, exc)
    messages.success(request, _("Attribution enregistrée."))
    return redirect("inbox:detail", pk=pk)


@require_POST
@staff_required
def qualify(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, action="work")
    form = QualifyForm(request.POST)
    if not form.is_valid():
        return render(request, "inbox/conversation.html",
                      _conversation_context(request, conversation, qualify_form=form),
                      status=422)
    data = dict(form.cleaned_data)
    tags = [t for t in data.pop("tags").split(",") if t.strip()]
    try:
        services.conversation_update(actor=request.user, conversation=conversation, data=data,
                                     tags=tags)
    except DomainError as exc:
        return _fail(request, conversation, exc, qualify_form=form)
    messages.success(request, _("Qualification enregistrée."))
    return redirect("inbox:detail", pk=pk)


@require_POST
@staff_required
def link_order(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    conversation = selectors.get_conversation_for_user(request.user, pk, action="work")
    form = OrderLinkForm(request.POST)
    if not form.is_valid():
        return render(request, "inbox/conversation.html",
                      _conversation_context(request, conversation, order_form=form), status=422)
    try:
        services.conversation_link_order(actor=request.user, conversation=conversation,
                                         reference=form.cleaned_data["order"])
    except DomainError as exc:
        return _fail(request, conversation, exc, order_form=form)
    messages.success(request, _("Commande liée au dossier.") if form.cleaned_data["order"]
                     else _("Commande déliée du dossier."))
    return redirect("inbox:detail", pk=pk)


@require_POST
@staff_required
def merge(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    source = selectors.get_conversation_for_user(request.user, pk, action="work")
    form = MergeForm(request.POST)
    if not form.is_valid():
        return render(request, "inbox/conversation.html",
                      _conversation_context(request, source, merge_form=form), status=422)
    target = selectors.conversations_visible_to(request.user).filter(
        reference__iexact=form.cleaned_data["target"].strip()).first()
    if target is None:
        form.add_error("target", _("Aucun dossier visible avec cette référence."))
        return render(request, "inbox/conversation.html",
                      _conversation_context(request, source, merge_form=form), status=422)
    try:
        services.conversation_merge(actor=request.user, source=source, target=target,
                                    inform_customer=form.cleaned_data["inform_customer"])
    except DomainError as exc:
        return _fail(request, source, exc, merge_form=form)
    messages.success(request, _("Dossier fusionné dans %(reference)s.") % {"reference": target.reference})
    return redirect("inbox:detail", pk=target.pk)


@require_POST
@staff_required
def split(request: AuthedHttpRequest, message_id: int) -> HttpResponse:
    message = get_object_or_404(Message, pk=message_id)
    conversation = selectors.get_conversation_for_user(request.user, message.conversation_id,
                                                       action="work")
    try:
        new = services.message_split(actor=request.user, message=message)
    except DomainError as exc:
        return _fail(request, conversation, exc)
    messages.success(request, _("Message déplacé dans le nouveau dossier %(reference)s.")
                     % {"reference": new.reference})
    return redirect("inbox:detail", pk=new.pk)


@role_required(permissions.can_work_conversations)
def phone_message(request: AuthedHttpRequest) -> HttpResponse:
    accounts = accounts_visible_to(request.user).only("pk", "name")
    form = PhoneMessageForm(request.POST or None, initial={"account": request.GET.get(
        "account")})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        account = accounts.filter(pk=data.pop("account")).first()
        if account is None:
            form.add_error("account", _("Compte client introuvable."))
        else:
            try:
                conversation = services.phone_message_record(actor=request.user,
                                                             account=account, **data)
            except DomainError as exc:
                apply_field_errors(form, exc.fields, str(exc.message))
            else:
                messages.success(request, _("Appel enregistré : %(reference)s.")
                                 % {"reference": conversation.reference})
                return redirect("inbox:detail", pk=conversation.pk)
    return render(request, "inbox/phone.html", {"form": form, "accounts": accounts},
                  status=422 if form.errors else 200)


@role_required(permissions.can_work_conversations)
def manual_entry(request: AuthedHttpRequest) -> HttpResponse:
    """« Saisie manuelle »: a request received by phone, e-mail or letter while the site or
    a channel was down, registered with its original reception time."""
    accounts = accounts_visible_to(request.user).only("pk", "name")
    form = ManualEntryForm(request.POST or None, request.FILES or None,
                           initial={"account": request.GET.get("account")})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        account = accounts.filter(pk=data.pop("account")).first()
        if account is None:
            form.add_error("account", _("Compte client introuvable."))
        else:
            try:
                conversation = manual.manual_entry_record(actor=request.user, account=account,
                                                          **data)
            except DomainError as exc:
                apply_field_errors(form, exc.fields, str(exc.message))
            else:
                messages.success(request, _("Demande enregistrée : %(reference)s.")
                                 % {"reference": conversation.reference})
                return redirect("inbox:detail", pk=conversation.pk)
    return render(request, "inbox/manual_entry.html", {"form": form, "accounts": accounts},
                  status=422 if form.errors else 200)


@require_POST
@staff_required
def bulk(request: AuthedHttpRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Sélection invalide."))
        return redirect("inbox:list")
    ids = form.cleaned_data["ids"]
    conversations = list(selectors.conversations_visible_to(request.user).filter(pk__in=ids))
    if len(conversations) != len(set(ids)):
        raise NotFound(_("Dossier introuvable."))
    uid = form.cleaned_data.get("assignee")
    assignee = User.objects.filter(pk=uid).first() if uid else None
    try:
        done = services.bulk_apply(actor=request.user, conversations=conversations,
                                   action=form.cleaned_data["action"], assignee=assignee,
                                   tag=form.cleaned_data.get("tag") or "")
    except (Forbidden, NotFound):
        raise  # a refusal is a 403/404 page, not a flash message
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("%(count)s dossier(s) mis à jour.") % {"count": done})
    return redirect(safe_next(request, "inbox:list"))


@staff_required
def attachment(request: AuthedHttpRequest, attachment_id: int) -> FileResponse:
    return attachment_response(selectors.get_attachment_for_user(request.user, attachment_id))


def attachment_response(item: Attachment) -> FileResponse:
    # Always a download, never rendered inline (no stored XSS through HTML/SVG files).
    response = FileResponse(item.file.open("rb"), as_attachment=True, filename=item.filename,
                            content_type=item.content_type or "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@require_POST
@staff_required
def presence(request: AuthedHttpRequest) -> HttpResponse:
    raw = request.POST.get("capacity", "").strip()
    try:
        services.presence_set(user=request.user, available=request.POST.get("available") == "1",
                              capacity=int(raw) if raw.isdigit() else None)
    except DomainError as exc:
        messages.error(request, "; ".join(m for ms in exc.fields.values() for m in ms))
    else:
        messages.success(request, _("Présence enregistrée."))
    return redirect(safe_next(request, "inbox:list"))


@staff_required
def notifications(request: AuthedHttpRequest) -> HttpResponse:

    if request.method == "POST":
        services.notifications_mark_read(user=request.user)
        return redirect("inbox:notifications")
    items = Notification.objects.filter(user=request.user).select_related("conversation")[:100]
    return render(request, "inbox/notifications.html", {"items": items})
