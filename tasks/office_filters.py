"""The office's filters, sorting and search on the period overview and the review queue.

Everything comes from GET parameters (``show``, ``kind``, ``sort``, ``q``, ``page``); a value the
page does not know is ignored and named in a notice in Chinese, never an error. Filtering,
sorting and paging happen in the database (``apply_filters`` on an annotated queryset, see
``selectors.period_overview_units``): ``paginate`` cuts the kept rows into pages of ``PER_PAGE``
and only the shown page is built in Python; the pager's links keep the filters."""

from django.core.paginator import Paginator
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext as _

from tasks.choices import SubmissionStatus, Timeliness
from units.choices import UnitKind

# 未报 / 逾期 as the glossary says (timeliness), and the forms not (yet) sent: 催报's candidates.
UNREPORTED = (SubmissionStatus.NOT_STARTED, SubmissionStatus.DRAFT, SubmissionStatus.RETURNED)
MAX_QUERY = 50
PER_PAGE = 100


def show_choices():
    return {
        "missing": _("只看未报"),
        "late": _("只看逾期"),
        "unreported": _("只看尚未提交"),
    }


def sort_choices():
    return {"unit": _("按单位"), "status": _("按状态"), "submitted": _("按提交时间")}


STATUS_ORDER = {status: i for i, status in enumerate(SubmissionStatus.values)}


def read_filters(params, sorts=None):
    """(the valid filters, notices about the values ignored) from a page's GET parameters."""
    shows, kinds = show_choices(), dict(UnitKind.choices)
    sorts = sorts or sort_choices()
    chosen, notices = {"show": "", "kind": "", "sort": "", "q": ""}, []
    for key, known, label in (
        ("show", shows, _("筛选")),
        ("kind", kinds, _("单位类别")),
        ("sort", sorts, _("排序")),
    ):
        value = params.get(key, "")
        if value in known:
            chosen[key] = value
        elif value:
            notices.append(_("“%(label)s”的取值无效，已忽略。") % {"label": label})
    query = params.get("q", "").strip()
    if len(query) > MAX_QUERY:
        notices.append(_("搜索内容过长，只按前 %(n)s 个字搜索。") % {"n": MAX_QUERY})
        query = query[:MAX_QUERY]
    chosen["q"] = query
    return chosen, notices


def _show_condition(show, status, timeliness):
    if show == "missing":
        return Q(**{timeliness: Timeliness.MISSING.value})
    if show == "late":
        return Q(**{timeliness: Timeliness.LATE.value})
    if show == "unreported":
        return Q(**{f"{status}__in": [s.value for s in UNREPORTED]})
    return Q()


def filter_condition(chosen, *, unit="", status="row_status", timeliness="row_timeliness"):
    """The filters (show, kind, search) as one ``Q`` over an annotated queryset (see
    ``apply_filters``); an empty ``Q`` when none is chosen."""
    condition = _show_condition(chosen["show"], status, timeliness)
    if chosen["kind"]:
        condition &= Q(**{f"{unit}kind": chosen["kind"]})
    if chosen["q"]:
        condition &= Q(**{f"{unit}name__icontains": chosen["q"]}) | Q(
            **{f"{unit}short_name__icontains": chosen["q"]}
        )
    return condition


def apply_filters(
    queryset,
    chosen,
    *,
    unit="",
    status="row_status",
    timeliness="row_timeliness",
    submitted="row_submitted_at",
    order=(),
):
    """The rows of ``queryset`` the filters keep, in the chosen order (else ``order``), in SQL.

    ``unit`` is the path to the unit (``""`` when the rows are units, ``"unit__"`` for forms);
    ``status``, ``timeliness`` and ``submitted`` name the row's status, timeliness
    (``rules.timeliness_sql``) and submission time. The chosen order comes first and ``order``
    breaks its ties, as a stable sort of the rows in ``order`` would."""
    condition = filter_condition(chosen, unit=unit, status=status, timeliness=timeliness)
    kept = queryset.filter(condition)
    if chosen["sort"] == "unit":
        first = (F(f"{unit}sort_order"), F(f"{unit}code"))
    elif chosen["sort"] == "status":
        rank = Case(
            *(When(**{status: value}, then=Value(i)) for value, i in STATUS_ORDER.items()), default=Value(99)
        )
        first = (rank, F(f"{unit}sort_order"))
    elif chosen["sort"] == "submitted":
        # the longest waiting first; never-submitted rows last
        first = (F(submitted).asc(nulls_last=True),)
    else:
        first = ()
    return kept.order_by(*first, *order)


def paginate(rows, params, per_page=None, count=None):
    """(the page of ``rows`` that ``params["page"]`` asks for, notices, the other GET parameters).

    A page number that is not a number gives the first page, one past the end the last page, each
    with a notice in Chinese; the third item is the query string (without ``page``) that the pager
    links start from, so that they keep the filters, sorting and search. ``count``: the number of
    ``rows`` when the caller has counted them already (saves the paginator's count query)."""
    paginator = Paginator(rows, per_page or PER_PAGE)
    if count is not None:
        paginator.count = count
    notices = []
    asked = params.get("page", "")
    number = 1
    if asked:
        if asked.isascii() and asked.isdigit() and len(asked) < 10:
            number = int(asked)
        else:
            notices.append(_("页码“%(page)s”无效，已显示第 1 页。") % {"page": asked[:20]})
    if number < 1:
        notices.append(_("页码“%(page)s”无效，已显示第 1 页。") % {"page": asked[:20]})
        number = 1
    elif number > paginator.num_pages:
        notices.append(
            _("没有第 %(page)s 页，已显示最后一页（第 %(last)s 页）。")
            % {"page": number, "last": paginator.num_pages}
        )
        number = paginator.num_pages
    page = paginator.page(number)
    # the page numbers the pager links to: the first, the last and two either side of this one
    page.links = list(paginator.get_elided_page_range(number, on_each_side=2, on_ends=1))
    kept = params.copy()
    kept.pop("page", None)
    return page, notices, kept.urlencode()
