"""Any Ollama model as teacher, through hcap's one Ollama client with the teacher instructions as system message.

The client constrains output with the label schema (`format`), validates it, and retries on its own;
this module only turns its predictions into teacher results.
"""

from __future__ import annotations

from hcap_tui.ollama_client import LocalModel, OllamaError, Prediction
from hcap_tui.schema import LabelSchema
from hcap_tui.teachers.base import TeacherResult


class OllamaTeacher:
    """Labels inputs with a model served by Ollama; costs nothing, so runs can be as large as the user likes."""

    kind = "ollama"

    def __init__(
        self, model: str, schema: LabelSchema, instructions: str, *, host: str | None = None, timeout: float = 120.0
    ) -> None:
        self.model = model
        self._local = LocalModel(model, schema, host=host, timeout=timeout, system=instructions)

    def check(self) -> None:
        """Raise OllamaUnreachable or ModelMissing (one line with the fix) before any item is sent.

        A teacher that fails the check is never used, so its connections are released at once.
        """
        try:
            self._local.check()
        except OllamaError:
            self._local.close()
            raise

    def label(self, formatted_input: str) -> TeacherResult:
        """Label one input (blocking)."""
        return _result(self._local.predict(formatted_input))

    async def alabel(self, formatted_input: str) -> TeacherResult:
        """Label one input inside a running event loop."""
        return _result(await self._local.apredict(formatted_input))

    async def aclose(self) -> None:
        """Release the model's connections: the ones `alabel` opened in this event loop and the blocking ones."""
        await self._local.aclose()
        self._local.close()


def _result(prediction: Prediction) -> TeacherResult:
    """A teacher result carrying the prediction's label or failure reason and its token counts."""
    return TeacherResult(
        formatted_input=prediction.formatted_input,
        label=prediction.label,
        raw=prediction.raw,
        error=prediction.error,
        model=prediction.model,
        prompt_tokens=prediction.prompt_tokens,
        completion_tokens=prediction.completion_tokens,
        attempts=prediction.attempts,
    )
