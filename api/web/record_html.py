"""The server-rendered parts of the record page: images (a generated one labelled as such, visibly),
the provider's fields with their language tags, the facet sections the script fills with trees, dialogs."""

from __future__ import annotations

from collections.abc import Sequence

from api.web.record_view import Field, Image, RecordData, Value, curie
from api.web.render import Viewer, escape, fill
from enrich.review import Reason, SuggestionRow
from enrich.vocab.facets import Facet


def _web_link(url: str) -> bool:
    return url.startswith(("https://", "http://"))


def image_html(viewer: Viewer, image: Image, title: str) -> str:
    if not _web_link(image.url):
        return ""  # not something a browser should be sent to (javascript:, data:, a URN)
    url = escape(image.url)
    if image.generated:
        # The label is visible text above the image, not only its alt text: nothing machine-made may pass
        # for a photograph of the object (DESIGN §9).
        label = f'<p class="ai-label"><strong>{viewer.t("record.ai_label")}</strong></p>'
        alt = viewer.t("record.ai_alt", title=title)
        caption = viewer.t("record.ai_note")
        kind = "image generated"
    else:
        label = ""
        alt = viewer.t("record.image_alt", title=title)
        caption = viewer.t(f"record.image.{image.role}")
        kind = "image"
    if image.is_picture:
        content = f'<a href="{url}"><img src="{url}" alt="{alt}" loading="lazy" decoding="async"></a>'
    else:
        content = f'<p><a href="{url}">{viewer.t("record.open_file", format=image.media_type or "")}</a></p>'
    return f'<figure class="{kind}">{label}{content}<figcaption>{caption}</figcaption></figure>'


def images_html(viewer: Viewer, record: RecordData) -> str:
    shown = [image_html(viewer, image, record.title) for image in record.images]
    shown = [item for item in shown if item]
    if not shown:
        return f'<p class="help">{viewer.t("record.no_image")}</p>'
    return f'<div class="gallery">{"".join(shown)}</div>'


def _value_html(viewer: Viewer, value: Value) -> str:
    if value.iri is not None:
        shown = escape(value.text)
        if _web_link(value.iri):
            return f'<a href="{escape(value.iri)}" title="{escape(value.iri)}">{shown}</a>'
        return f'<span title="{escape(value.iri)}">{shown}</span>'
    if value.language is None:
        return f"<span>{escape(value.text)}</span>"
    language = escape(value.language)
    tag_title = viewer.t("record.language", language=value.language)
    tag = f'<span class="lang-tag" title="{tag_title}">{language}</span>'
    return f'<span lang="{language}">{escape(value.text)}</span> {tag}'


def fields_html(viewer: Viewer, fields: Sequence[Field], literal: Sequence[SuggestionRow]) -> str:
    """The provider's fields as they are; each field that has literal suggestions (translations) gets a
    slot beside its values, which the script fills. A suggested property the record lacks gets a row too."""
    suggested = {row.predicate for row in literal}
    rows = list(fields) + [Field(p) for p in sorted(suggested) if all(f.predicate != p for f in fields)]
    out = []
    for field in rows:
        name = curie(field.predicate)
        label = viewer.text(f"field.{name}")
        heading = escape(label) if label != f"field.{name}" else escape(name)
        values = "".join(f"<li>{_value_html(viewer, value)}</li>" for value in field.values)
        slot = (
            f'<div class="literal-suggestions" data-predicate="{escape(field.predicate)}"></div>'
            if field.predicate in suggested
            else ""
        )
        out.append(
            f'<div class="field-row"><dt>{heading} <code class="curie">{escape(name)}</code></dt>'
            f'<dd><ul class="values">{values}</ul>{slot}</dd></div>'
        )
    return "".join(out)


def facets_html(viewer: Viewer, facets: Sequence[tuple[Facet, int, int]]) -> str:
    """One section per facet with suggestions for the record; the script puts the tree in."""
    if not facets:
        return f'<p class="help">{viewer.t("record.no_suggestions")}</p>'
    out = []
    for facet, total, pending in facets:
        fid = escape(facet.id)
        out.append(
            f'<section class="facet" data-facet="{fid}" data-total="{total}" data-pending="{pending}" '
            f'aria-labelledby="facet-{fid}-title">'
            f'<h3 id="facet-{fid}-title">{escape(facet.label(viewer.ui))}</h3>'
            f'<p class="facet-counts">{viewer.t("record.facet_counts", total=total, pending=pending)}</p>'
            f'<div class="tree" data-facet="{fid}"><p class="help">{viewer.t("record.tree_loading")}</p></div>'
            "</section>"
        )
    return "".join(out)


def dialogs_html(viewer: Viewer) -> str:
    reasons = "".join(
        f'<div class="choice"><input type="radio" name="reason" id="reason-{reason.value}" value="{reason.value}"'
        f'{" checked" if number == 0 else ""}><label for="reason-{reason.value}">{viewer.t(f"reason.{reason.value}")}'
        "</label></div>"
        for number, reason in enumerate(Reason)
    )
    return fill(
        "record-dialogs.html",
        reject_title=viewer.t("dialog.reject.title"),
        reason_legend=viewer.t("dialog.reject.legend"),
        reasons=reasons,
        reject=viewer.t("action.reject"),
        cancel=viewer.t("dialog.cancel"),
        correct_title=viewer.t("dialog.correct.title"),
        search_label=viewer.t("dialog.correct.search"),
        search=viewer.t("dialog.correct.search_button"),
        tree_title=viewer.t("dialog.correct.tree"),
        help_title=viewer.t("help.title"),
        help_j=viewer.t("help.j"),
        help_k=viewer.t("help.k"),
        help_a=viewer.t("help.a"),
        help_r=viewer.t("help.r"),
        help_c=viewer.t("help.c"),
        help_u=viewer.t("help.u"),
        help_help=viewer.t("help.help"),
        close=viewer.t("help.close"),
    )
