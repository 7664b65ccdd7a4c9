"""A pasted plain-text article -> one Article: headline, lead, caption/credit, body, tags.

Editors copy articles out of the CMS or the web page as text: a section label, the headline,
the photo caption with its credit, share buttons, the lead, subheads, "Lesen Sie auch …"
links, "Folgen Sie …" and a "Themen" list. The text has no address, so the caller gives the
article's URL (`--url`). Blocks are separated by blank lines:

- a first short line without sentence punctuation followed by another one is the **section**;
- the first line that is not furniture is the **headline**;
- a block that ends in a credit ("… Bild: picture alliance/dpa", "… (Foto: dpa)") is the
  **caption**: alt text and credit; an image URL line (`https://…/bild.jpg`) makes it the image;
- furniture (share lines, "Lesen Sie auch", "Folgen Sie", captions, "Anzeige") is skipped;
- lines after "Themen" / "Schlagworte:" / "Tags:" are the **tags**;
- everything else is the **body**; the teaser is its first whole sentences, as for any body.
"""

from __future__ import annotations

import re
from typing import Any

from distributor.article import Article
from distributor.errors import ArticleError
from distributor.teaser import fill_teaser, is_boilerplate, split_caption

_IMAGE_URL = re.compile(r"^https?://\S+\.(?:jpe?g|png|webp|gif)(?:\?\S*)?$", re.IGNORECASE)
_TAGS_LABEL = re.compile(r"^(?:themen|schlagworte|schlagwörter|tags|topics)\s*:?\s*", re.I)
_CREDIT_END = re.compile(
    r"(?:\b(?:Bild|Foto|Fotos|Image|Photo|Credit)\s*:|\((?:Bild|Foto|Photo)\s*:|©)", re.I
)
MAX_HEADLINE = 250


def _blocks(text: str) -> list[str]:
    """Paragraphs (blank-line separated), each squashed to one line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [" ".join(b.split()) for b in re.split(r"\n\s*\n", text) if b.strip()]


def _short_label(block: str) -> bool:
    return len(block.split()) <= 3 and not block.endswith((".", "!", "?", ":", "…"))


def parse_text(text: str, url: str, where: str = "<text>") -> Article:
    """The Article in a pasted plain text; ArticleError (naming `where`) when it has none."""
    blocks = _blocks(text)
    fields: dict[str, Any] = {"url": url, "tags": []}
    if len(blocks) >= 2 and _short_label(blocks[0]) and not is_boilerplate(blocks[0]):
        fields["section"] = blocks.pop(0)
    body: list[str] = []
    image_url = ""
    for index, block in enumerate(blocks):
        label = _TAGS_LABEL.match(block)
        if label and ("title" in fields) and len(block.split()) <= 12:
            rest = [block[label.end() :], *blocks[index + 1 :]]
            fields["tags"] = [t.strip() for b in rest for t in b.split(",") if t.strip()]
            break
        if _IMAGE_URL.match(block):
            image_url = block
        elif "title" not in fields and not is_boilerplate(block):
            fields["title"] = block
        elif "caption" not in fields and _CREDIT_END.search(block) and is_boilerplate(block):
            fields["caption"] = split_caption(block)
        elif not is_boilerplate(block):
            body.append(block)
    return _article(fields, body, image_url, where)


def _article(fields: dict[str, Any], body: list[str], image_url: str, where: str) -> Article:
    title = fields.get("title", "")
    if not title or len(title) > MAX_HEADLINE:
        raise ArticleError(f"{where}: no headline found (the first line that is not furniture)")
    if not body:
        raise ArticleError(f"{where}: no article text after the headline")
    alt, credit = fields.pop("caption", ("", ""))
    data = {**fields, "body": "\n\n".join(body)}
    if image_url:
        data["image"] = {"url": image_url, "alt": alt, "credit": credit}
    return fill_teaser(Article.from_dict(data, where))
