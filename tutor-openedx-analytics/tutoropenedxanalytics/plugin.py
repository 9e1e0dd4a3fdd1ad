"""Tutor plugin: install openedx-analytics in the LMS image, give it its own MySQL database, set it up.

What an operator would otherwise do by hand after ``pip install openedx-analytics``, done
through Tutor's hooks, so that ``tutor plugins enable openedx-analytics`` then
``tutor local launch`` is the whole deploy:

- the pip requirement in the openedx image (and the image rebuilt on ``launch``);
- a MySQL database and user of its own, created by the ``mysql`` init task;
- the ``analytics`` database alias and the plugin's router first in ``DATABASE_ROUTERS``, in
  the LMS settings Tutor renders (after every settings layer the plugin's own hook saw);
- both migrations by the ``lms`` init task: ``migrate`` (configuration tables, default
  database) and ``migrate openedx_analytics --database analytics``;
- a Celery queue of its own, which the LMS workers consume.
"""
from __future__ import annotations

import typing as t
from pathlib import Path

from tutor import hooks
from tutor.core.hooks import priorities

from .__about__ import __version__

HERE = Path(__file__).resolve().parent

hooks.Filters.CONFIG_DEFAULTS.add_items([
    ("OPENEDX_ANALYTICS_VERSION", __version__),
    # What pip installs in the openedx image: a release, or e.g. "git+https://...@<ref>".
    ("OPENEDX_ANALYTICS_PIP_REQUIREMENT", "openedx-analytics=={{ OPENEDX_ANALYTICS_VERSION }}"),
    # The Django database alias and the MySQL database and user behind it.
    ("OPENEDX_ANALYTICS_DATABASE_ALIAS", "analytics"),
    ("OPENEDX_ANALYTICS_MYSQL_DATABASE", "openedx_analytics"),
    ("OPENEDX_ANALYTICS_MYSQL_USERNAME", "openedx_analytics"),
    # The Celery queue the plugin's tasks go to; the LMS workers are told to consume it.
    ("OPENEDX_ANALYTICS_CELERY_QUEUE", "edx.lms.core.analytics"),  # = DEFAULT_QUEUE
])

hooks.Filters.CONFIG_UNIQUE.add_items([
    ("OPENEDX_ANALYTICS_MYSQL_PASSWORD", "{{ 24|random_string }}"),
])

# Init tasks, run by `tutor local do init` (and `launch`) after the core ones (low priority):
# the database and its user first, then both migrations.
for _service in ("mysql", "lms"):
    hooks.Filters.CLI_DO_INIT_TASKS.add_item(
        (_service, (HERE / "templates" / "openedx-analytics" / "jobs" / "init" / f"{_service}.sh").read_text()),
        priority=priorities.LOW,
    )


@hooks.Filters.IMAGES_BUILD_REQUIRED.add()
def _build_openedx_on_launch(image_names: list[str], context_name: t.Literal["local", "dev"]) -> list[str]:
    """The openedx image carries the pip requirement: `launch` must rebuild it."""
    if context_name == "local" and "openedx" not in image_names:
        image_names.append("openedx")
    return image_names


#: The configured queue, known once Tutor has loaded the project's configuration.
_QUEUE: dict[str, str] = {}
DEFAULT_QUEUE = "edx.lms.core.analytics"
CORE_LMS_QUEUES = "edx.lms.core.default,edx.lms.core.high,edx.lms.core.high_mem"


@hooks.Actions.CONFIG_LOADED.add()
def _remember_queue(config: dict[str, t.Any]) -> None:
    """The worker command is not a template: keep the configured queue name for it."""
    _QUEUE["name"] = str(config.get("OPENEDX_ANALYTICS_CELERY_QUEUE") or DEFAULT_QUEUE)


@hooks.Filters.LMS_WORKER_COMMAND.add()
def _consume_analytics_queue(command: list[str]) -> list[str]:
    """Add the plugin's queue to the LMS workers' ``--queues`` (or add the option when absent)."""
    queue = _QUEUE.get("name", DEFAULT_QUEUE)
    for index, part in enumerate(command):
        if part.startswith("--queues="):
            if queue not in part.split("=", 1)[1].split(","):
                command[index] = f"{part},{queue}"
            return command
    return [*command, f"--queues={CORE_LMS_QUEUES},{queue}"]


for _patch in sorted((HERE / "patches").iterdir()):
    hooks.Filters.ENV_PATCHES.add_item((_patch.name, _patch.read_text(encoding="utf-8")))
