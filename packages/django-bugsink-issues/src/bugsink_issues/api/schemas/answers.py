"""The base of the answers that are built as plain dicts and validated once, on the way out.

ninja's Schema resolves every field of every nested object through a Django-aware getter (made
for answers built from model instances): for a page of 100 issues with their nested objects that
was about half of the request. These answers are dicts, which pydantic-core validates directly.
"""

from pydantic import BaseModel, ConfigDict

__all__ = ["Answer"]


class Answer(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
