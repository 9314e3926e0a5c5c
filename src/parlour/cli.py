"""The ``parlour`` command (I4): start the whole system, run its background worker, create an
organization and its first admin, load a demo. Any other subcommand is one of Django's
management commands, so ``parlour migrate`` and ``parlour shell`` work as ``manage.py`` would."""

import argparse
import getpass
import os
import signal
import subprocess
import sys
import threading
import time

COMMANDS = ("run", "worker", "demo", "createorg")
BAD_INPUT = 2  # the exit code for refused input, as argparse uses for a bad command line


class Refused(Exception):
    """Input the command refuses; its message says why."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="parlour",
        description="Parlour: book, hold and settle video consultations with experts.",
        epilog="Any other command is one of Django's management commands, for example\n"
        "`parlour migrate`, `parlour shell` or `parlour createsuperuser`; `parlour help` lists them.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="prepare the data folder and database, then serve Parlour")
    run.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    run.add_argument("--port", type=int, default=8000, help="port to listen on (default: %(default)s)")

    worker = commands.add_parser(
        "worker",
        help="run the background worker: mail, reminders, closing and settling meetings",
        description="Runs the background tasks (parlour.tasks). `parlour run` starts one beside the web "
        "server; start more, on this machine or (with PARLOUR_REDIS_URL) on others, to share the work.",
    )
    worker.add_argument("--workers", type=int, default=None, help="threads running tasks (default: 2)")
    worker.add_argument(
        "--no-periodic",
        action="store_true",
        help="do not schedule the every-minute work here (another worker does)",
    )

    commands.add_parser("demo", help="load a demo organization with people, services and meetings")

    createorg = commands.add_parser("createorg", help="create an organization and its first admin")
    createorg.add_argument("--name", required=True, help="the organization's name")
    createorg.add_argument("--slug", required=True, help="short name used in addresses: lowercase letters, digits, -")
    createorg.add_argument("--admin-email", required=True, help="the first admin's sign-in email")
    createorg.add_argument("--admin-name", required=True, help="the first admin's name")
    createorg.add_argument("--password", help="the admin's password (asked for when left out)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parlour.settings")
    parser = build_parser()
    if args and not args[0].startswith("-") and args[0] not in COMMANDS:
        from django.core.management import execute_from_command_line

        _prepare_data_dir()

        execute_from_command_line(["parlour", *args])
        return 0
    options = parser.parse_args(args)
    if options.command is None:
        parser.print_help()
        return 0
    _prepare_data_dir()
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    handler = {"run": run, "worker": worker, "demo": demo, "createorg": createorg}[options.command]
    try:
        return handler(options)
    except Refused as refusal:
        print(f"parlour {options.command}: {refusal}", file=sys.stderr)
        return BAD_INPUT


def _prepare_data_dir() -> None:
    """The data folder (database, secret key, static and media files) must exist before
    Django reads its settings."""
    from django.conf import settings

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)


def migrate() -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


# --- parlour run ---------------------------------------------------------------------


class _Stop(Exception):
    """Raised by the SIGTERM handler once the server has shut down gracefully."""


def _stop(signum, frame) -> None:
    raise _Stop


def run(options) -> int:
    import uvicorn
    from django.conf import settings
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.core.management import call_command

    from parlour.accounts.models import User
    from parlour.asgi import WS_MAX_SIZE, build_application, http_application

    if not 0 < options.port < 65536:
        raise Refused(f"--port {options.port}: choose a port from 1 to 65535.")
    print(f"Data folder: {settings.DATA_DIR}")
    migrate()
    call_command("collectstatic", interactive=False, verbosity=0)
    # Static files (the admin's and the room's CSS and scripts) are served in-process: nothing
    # else to run. Websockets (the built-in room's signaling) go to parlour.asgi's router.
    application = build_application(http=ASGIStaticFilesHandler(http_application))

    url = f"http://{options.host}:{options.port}/"
    print(f"Serving Parlour at {url}")
    print(f"Admin area: {url}admin/")
    if options.host not in settings.ALLOWED_HOSTS:
        print(f"Add {options.host} (or the name people use) to PARLOUR_ALLOWED_HOSTS to accept requests for it.")
    if User.objects.filter(is_superuser=True).exists():
        print("Sign in with the email and password of an admin.")
    else:
        print("Nobody can sign in yet: create an organization and its admin with `parlour createorg`,")
        print("or load the demo with `parlour demo`.")
    print("Press Ctrl-C to stop.", flush=True)

    config = uvicorn.Config(
        application, host=options.host, port=options.port, lifespan="off", log_level="info", ws_max_size=WS_MAX_SIZE
    )
    server = uvicorn.Server(config)
    # uvicorn shuts down gracefully on SIGINT/SIGTERM, then raises the signal again with the
    # handler found before it started: KeyboardInterrupt for Ctrl-C, _Stop for SIGTERM.
    previous = signal.signal(signal.SIGTERM, _stop)
    # The background worker (outbox delivery, V5 closing, S3 settling, reminders) starts
    # here, beside the web server ...
    background = WorkerProcess()
    background.start()
    try:
        server.run()
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        # ... and stops here, once the web server has.
        signal.signal(signal.SIGTERM, previous)
        background.stop()
    print("Parlour stopped.")
    return 0


class WorkerProcess:
    """``parlour worker`` as a child process of ``parlour run``: started with it, started
    again if it dies, stopped (gracefully, then by force) with it. It runs in a session of its
    own, so that Ctrl-C reaches only ``parlour run``, which then stops it; and it stops by
    itself if ``parlour run`` is killed (PARLOUR_WORKER_PARENT)."""

    GRACE = 75  # seconds: the consumer's own shutdown timeout, and a margin
    RESTART_DELAY = 5

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def start(self) -> None:
        self._spawn()
        threading.Thread(target=self._watch, name="worker-watch", daemon=True).start()

    def _spawn(self) -> None:
        from django.conf import settings

        env = {**os.environ, "PARLOUR_DATA_DIR": str(settings.DATA_DIR), "PARLOUR_WORKER_PARENT": str(os.getpid())}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parlour", "worker"], env=env, start_new_session=True, stdin=subprocess.DEVNULL
        )

    def _watch(self) -> None:
        while not self.stopping.wait(1):
            with self.lock:
                process = self.process
                if self.stopping.is_set() or process is None or process.poll() is None:
                    continue
                print(f"The worker stopped (exit code {process.returncode}); starting it again.", flush=True)
            if self.stopping.wait(self.RESTART_DELAY):
                return
            with self.lock:
                if not self.stopping.is_set():
                    self._spawn()

    def stop(self) -> None:
        with self.lock:
            self.stopping.set()
            process = self.process
        if process is None or process.poll() is not None:
            return
        print("Stopping the worker ...", flush=True)
        process.terminate()
        try:
            process.wait(self.GRACE)
        except KeyboardInterrupt:
            # Ctrl-C again: the worker is told again, which cuts its tasks short.
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- parlour worker ------------------------------------------------------------------


def worker(options) -> int:
    from django.conf import settings
    from huey.consumer_options import ConsumerConfig
    from huey.contrib.djhuey import HUEY

    import parlour.tasks  # noqa: F401 - registers the tasks with the queue

    consumer_options = {**settings.HUEY.get("consumer", {})}
    if options.workers is not None:
        if not 0 < options.workers <= 100:
            raise Refused(f"--workers {options.workers}: choose from 1 to 100.")
        consumer_options["workers"] = options.workers
    if options.no_periodic:
        consumer_options["periodic"] = False
    config = ConsumerConfig(**consumer_options)
    config.validate()
    consumer = HUEY.create_consumer(**config.values)
    # Huey finishes the running tasks on one signal (SIGINT) and cuts them short on the other;
    # a task cut short while mailing leaves a mail that may or may not have left (see
    # notifications.delivery), so both let the tasks finish. A second signal cuts short.
    consumer._signal_actions[signal.SIGINT] = consumer._signal_actions[signal.SIGTERM] = (False, True)  # graceful
    if parent := os.environ.get("PARLOUR_WORKER_PARENT"):
        threading.Thread(target=_stop_when_orphaned, args=(int(parent),), daemon=True).start()

    queue = "Redis" if settings.REDIS_URL else settings.HUEY["connection"]["filename"]
    print(f"Parlour worker: {config.workers} thread(s), queue in {queue}.", flush=True)
    consumer.run()
    print("Parlour worker stopped.", flush=True)
    return 0


def _stop_when_orphaned(parent: int) -> None:
    """A worker started by ``parlour run`` stops, as on SIGTERM, once that process is gone."""
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


# --- parlour demo --------------------------------------------------------------------


def demo(options) -> int:
    from parlour import demo as demo_data
    from parlour.meetings.guest_links import link_token

    migrate()
    try:
        loaded = demo_data.load()
    except demo_data.DemoConflict as conflict:
        raise Refused(str(conflict)) from None
    if loaded is None:
        print(f"The demo organization '{demo_data.SLUG}' is already loaded; nothing was changed.")
        print(f"Sign in at /admin/ as {demo_data.ADMIN_EMAIL} with the password {demo_data.PASSWORD!r}.")
        return 0
    print(f"Loaded the demo organization '{loaded.organization.name}' (slug: {loaded.organization.slug}).")
    print(f"Every demo person signs in with the password {demo_data.PASSWORD!r}:")
    for role, people in loaded.people.items():
        print(f"  {role}:")
        for person in people:
            print(f"    {person.email:<34} {person.name}")
    print(f"Made {loaded.meetings} meetings, one or more in every status.")
    if (now := loaded.room_now) is not None:
        print(
            f"The room of '{now.subject}' is open now, until {now.end:%H:%M} UTC: {now.expert.name} signs in "
            f"and enters from /meetings/; the guest {now.guest.name} enters at /join/ with the key {now.guest_key}."
        )
        print(
            f"The guest's own page, as the mail to them links it (change, cancel, write to the expert): "
            f"/g/{link_token(now)}/"
        )
    print(f"Sign in to the admin area (/admin/) as {demo_data.ADMIN_EMAIL}.")
    return 0


# --- parlour createorg ---------------------------------------------------------------


def createorg(options) -> int:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email, validate_slug
    from django.db import transaction

    from parlour.accounts.models import Membership, Organization, Role, User

    name = options.name.strip()
    slug = options.slug.strip()
    email = options.admin_email.strip().lower()
    admin_name = options.admin_name.strip()
    if not name or len(name) > 200:
        raise Refused("--name: give the organization's name (at most 200 characters).")
    try:
        validate_slug(slug)
    except ValidationError:
        raise Refused(f"--slug {slug!r}: use only letters, digits, hyphens and underscores.") from None
    if len(slug) > 60:
        raise Refused("--slug: at most 60 characters.")
    try:
        validate_email(email)
    except ValidationError:
        raise Refused(f"--admin-email {options.admin_email!r} is not an email address.") from None
    if not admin_name or len(admin_name) > 200:
        raise Refused("--admin-name: give the admin's name (at most 200 characters).")
    migrate()
    if Organization.objects.filter(slug=slug).exists():
        raise Refused(f"an organization with the slug {slug!r} already exists; choose another slug.")
    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None and options.password is not None:
        raise Refused(
            f"{email} already has an account; leave out --password to make that person the admin "
            "(their password stays as it is)."
        )
    password = None if existing else _new_password(options.password, email, admin_name)

    with transaction.atomic():
        first_operator = not User.objects.filter(is_superuser=True).exists()
        admin = existing or User.objects.create_user(
            email,
            password,
            name=admin_name,
            is_staff=first_operator,
            is_superuser=first_operator,
        )
        organization = Organization.objects.create(name=name, slug=slug)
        organization.settings  # noqa: B018 - creates the settings row with the defaults (O5)
        Membership.objects.create(organization=organization, user=admin, role=Role.ADMIN)

    print(f"Created the organization '{organization.name}' (slug: {organization.slug}).")
    if existing:
        print(f"{admin.name} <{admin.email}> (an existing account) is its admin.")
    else:
        print(f"{admin.name} <{admin.email}> is its admin and signs in with the password given.")
    if admin.is_superuser:
        print("They may also open the admin area (/admin/).")
    return 0


def _new_password(given: str | None, email: str, name: str) -> str:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from parlour.accounts.models import User

    if given is None:
        if not sys.stdin.isatty():
            raise Refused("--password: give a password, or run the command in a terminal to be asked for one.")
        given = getpass.getpass(f"Password for {email}: ")
        if getpass.getpass("The same password again: ") != given:
            raise Refused("the two passwords differ.")
    try:
        validate_password(given, User(email=email, name=name))
    except ValidationError as error:
        raise Refused("the password is refused: " + " ".join(error.messages)) from None
    return given


if __name__ == "__main__":
    sys.exit(main())
