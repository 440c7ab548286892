from cxloop.cli import run

run()
