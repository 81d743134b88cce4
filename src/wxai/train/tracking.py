"""Experiment tracking on MLflow through :class:`mlflow.MlflowClient`.

:class:`MlflowTracker` implements the :class:`wxai.core.typing.Tracker`
Protocol for one run. It never relies on MLflow's implicit "active run": every
call names its run id. The default store is a SQLite database in the wxai home
(``WXAI_TRACKING_URI`` points it at a server instead).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wxai.core.errors import UnknownNameError, WxaiError
from wxai.core.paths import artifacts_dir
from wxai.core.settings import get_settings

if TYPE_CHECKING:
    from mlflow import MlflowClient

#: Tag keys used for lineage between runs and models.
PARENT_RUN_TAG = "mlflow.parentRunId"
SOURCE_MODEL_TAG = "wxai.source_model"
TRAINING_TYPE_TAG = "wxai.training_type"


def tracking_uri() -> str:
    """The MLflow tracking URI in effect."""
    return get_settings().resolved_tracking_uri


def make_client(uri: str | None = None) -> MlflowClient:
    """An :class:`mlflow.MlflowClient` for ``uri`` (default: :func:`tracking_uri`)."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=uri or tracking_uri())


def get_or_create_experiment(client: MlflowClient, name: str) -> str:
    """Return the id of experiment ``name``, creating it if needed.

    Local stores put the experiment's artifacts under the wxai home.
    """
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return experiment.experiment_id
    location = None
    if client.tracking_uri.startswith(("sqlite:", "file:")) or "://" not in client.tracking_uri:
        location = (artifacts_dir() / name).as_uri()
    return client.create_experiment(name, artifact_location=location)


class MlflowTracker:
    """One MLflow run, addressed by id.

    Use :meth:`start` to create the run; :meth:`finish` ends it.
    """

    def __init__(self, client: MlflowClient, run_id: str, experiment_id: str) -> None:
        self._client = client
        self._run_id = run_id
        self._experiment_id = experiment_id

    @classmethod
    def start(
        cls,
        experiment: str,
        *,
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
        parent_run_id: str | None = None,
        uri: str | None = None,
    ) -> MlflowTracker:
        """Create a run in ``experiment`` and return its tracker."""
        client = make_client(uri)
        experiment_id = get_or_create_experiment(client, experiment)
        all_tags = dict(tags or {})
        if parent_run_id:
            all_tags[PARENT_RUN_TAG] = parent_run_id
        run = client.create_run(experiment_id, run_name=run_name, tags=all_tags)
        return cls(client, run.info.run_id, experiment_id)

    @property
    def client(self) -> MlflowClient:
        """The underlying MLflow client."""
        return self._client

    @property
    def run_id(self) -> str:
        """Id of the tracked run."""
        return self._run_id

    @property
    def experiment_id(self) -> str:
        """Id of the run's experiment."""
        return self._experiment_id

    @property
    def run_uri(self) -> str:
        """``runs:/<id>`` URI of the run."""
        return f"runs:/{self._run_id}"

    def log_params(self, params: Mapping[str, Any]) -> None:
        """Log parameters; nested mappings are flattened to dotted keys."""
        from mlflow.entities import Param

        flat = _flatten(params)
        batch = [Param(key, str(value)[:6000]) for key, value in flat.items()]
        for start in range(0, len(batch), 100):
            self._client.log_batch(self._run_id, params=batch[start : start + 100])

    def log_metrics(self, metrics: Mapping[str, float], step: int | None = None) -> None:
        """Log metric values at ``step`` (one timestamp for the batch)."""
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        batch = [Metric(key, float(value), now, step or 0) for key, value in metrics.items()]
        if batch:
            self._client.log_batch(self._run_id, metrics=batch)

    def set_tags(self, tags: Mapping[str, str]) -> None:
        """Set tags on the run."""
        for key, value in tags.items():
            self._client.set_tag(self._run_id, key, str(value))

    def log_figure(self, figure: Any, name: str) -> Path:
        """Log a matplotlib figure as artifact ``figures/<name>``; return a local copy."""
        local = Path(tempfile.mkdtemp(prefix="wxai-fig-")) / name
        figure.savefig(local, dpi=110, bbox_inches="tight")
        self._client.log_artifact(self._run_id, str(local), artifact_path="figures")
        return local

    def log_artifact(self, path: Path, subdir: str | None = None) -> None:
        """Log a local file (or directory) as an artifact."""
        if Path(path).is_dir():
            self._client.log_artifacts(self._run_id, str(path), artifact_path=subdir)
        else:
            self._client.log_artifact(self._run_id, str(path), artifact_path=subdir)

    def log_dict(self, data: Mapping[str, Any], name: str) -> None:
        """Log a JSON (``.json``) or YAML (``.yaml``) document as an artifact."""
        self._client.log_dict(self._run_id, dict(data), name)

    def log_torch_model(
        self,
        model: Any,
        *,
        input_example: Any,
        name: str = "model",
        registered_name: str | None = None,
        alias: str | None = None,
    ) -> str:
        """Log a PyTorch model with a signature inferred from ``input_example``.

        Parameters
        ----------
        model:
            A ``torch.nn.Module``.
        input_example:
            A NumPy array of model inputs, shape ``(n, features)``.
        registered_name:
            If given, register the model under this name in the registry.
        alias:
            Registry alias to point at the new version (needs ``registered_name``).

        Returns
        -------
        str
            The ``runs:/<run_id>/<name>`` URI the model can be loaded from.
        """
        import mlflow
        import mlflow.pytorch
        import torch
        from mlflow.models import infer_signature

        model.eval()
        with torch.no_grad():
            output = model(torch.as_tensor(input_example)).numpy()
        signature = infer_signature(input_example, output)
        status = self._client.get_run(self._run_id).info.status
        with _global_tracking_uri(self._client.tracking_uri), mlflow.start_run(self._run_id):
            # Explicit requirements: inferring them loads the model in a subprocess
            # (seconds) and adds nothing for a plain torch module. Pickled, not MLflow
            # 3's default torch.export graph: that one reloads only for the example's
            # shapes (a U-Net on another grid or batch fails its guards).
            info = mlflow.pytorch.log_model(
                model,
                name=name,
                signature=signature,
                input_example=input_example,
                pip_requirements=_torch_requirements(),
                serialization_format="pickle",
            )
        # Leaving ``start_run`` ends the run; put back the state it had.
        self._client.update_run(self._run_id, status=status)
        uri = f"runs:/{self._run_id}/{name}"
        if registered_name:
            # MLflow 3 keeps the files with the logged model, not under the run's
            # artifacts: the version's source must be the ``models:/<model_id>`` URI.
            register_model(
                self._client,
                info.model_uri,
                registered_name,
                alias=alias,
                run_id=self._run_id,
                model_id=info.model_id,
            )
        return uri

    def finish(self, status: str = "FINISHED") -> None:
        """End the run with ``status`` (FINISHED, FAILED or KILLED)."""
        self._client.set_terminated(self._run_id, status=status)


def register_model(
    client: MlflowClient,
    model_uri: str,
    name: str,
    *,
    alias: str | None = None,
    run_id: str | None = None,
    model_id: str | None = None,
) -> str:
    """Register ``model_uri`` as a new version of ``name``; return the version.

    The registered model is created on first use; ``alias`` (for example
    ``champion``) is moved to the new version. A ``runs:/<id>/<name>`` URI is
    resolved to the model logged under that name in that run.
    """
    from mlflow.exceptions import MlflowException

    if model_uri.startswith("runs:/") and model_id is None:
        run_id, model_id = _logged_model_of_run(client, model_uri)
        model_uri = f"models:/{model_id}"
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name)
    # The registry looks the logged model up through MLflow's default client.
    with _global_tracking_uri(client.tracking_uri):
        version = client.create_model_version(name, model_uri, run_id=run_id, model_id=model_id)
    if alias:
        client.set_registered_model_alias(name, alias, version.version)
    return str(version.version)


def model_version_for_alias(client: MlflowClient, name: str, alias: str) -> str:
    """The version of registered model ``name`` that ``alias`` points to.

    Raises
    ------
    UnknownNameError
        If ``name`` has no such alias; the message lists its aliases.
    """
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        try:
            aliases = client.get_registered_model(name).aliases
        except MlflowException:
            aliases = {}
        raise UnknownNameError("model alias", alias, aliases) from None


def lineage_tags(
    *, parent_run_id: str, source_model_uri: str, training_type: str
) -> dict[str, str]:
    """Tags that record where a run's model comes from.

    Parameters
    ----------
    parent_run_id:
        The run that produced the source model.
    source_model_uri:
        URI the training started from, e.g. ``runs:/<id>/model``.
    training_type:
        For example ``"fine-tune"``, ``"continuation"`` or ``"from-scratch"``.
    """
    return {
        PARENT_RUN_TAG: parent_run_id,
        SOURCE_MODEL_TAG: source_model_uri,
        TRAINING_TYPE_TAG: training_type,
    }


def _logged_model_of_run(client: MlflowClient, model_uri: str) -> tuple[str, str]:
    """``(run_id, model_id)`` of the model logged as ``runs:/<run_id>/<name>``."""
    run_id, _, name = model_uri.removeprefix("runs:/").partition("/")
    run = client.get_run(run_id)
    models = client.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"name = '{name or 'model'}' AND source_run_id = '{run_id}'",
    )
    if not models:
        raise WxaiError(f"run {run_id} has no model logged as {name!r}; log it first")
    latest = max(models, key=lambda model: model.creation_timestamp)
    return run_id, latest.model_id


def load_torch_model(model_uri: str, uri: str | None = None) -> Any:
    """Load a PyTorch model from ``runs:/...`` or ``models:/name@alias``."""
    import mlflow.pytorch

    with _global_tracking_uri(uri or tracking_uri()):
        try:
            return mlflow.pytorch.load_model(model_uri, map_location="cpu")
        except Exception as exc:
            raise WxaiError(f"could not load model {model_uri!r}: {exc}") from exc


def _torch_requirements() -> list[str]:
    """Pinned pip requirements of a logged torch model (without local labels like ``+cpu``)."""
    from importlib.metadata import version

    return [f"{name}=={version(name).split('+')[0]}" for name in ("torch", "cloudpickle")]


@contextmanager
def _global_tracking_uri(uri: str) -> Iterator[None]:
    """Point MLflow's fluent API at ``uri`` for the duration of the block.

    Some MLflow calls (model logging and loading, model-version creation) go
    through the process-wide default client; the previous URI is put back after.
    """
    import mlflow

    previous_uri = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous_uri)


def _flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, prefix=f"{name}."))
        elif isinstance(value, list | tuple):
            flat[name] = json.dumps(value, default=str)
        else:
            flat[name] = value
    return flat
