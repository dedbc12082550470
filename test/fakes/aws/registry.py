"""The operation table: (service, operation) -> handler, filled by the
@op decorator of each service module (services.py imports them all)."""


HANDLERS = {}


def op(service, name):
    def deco(fn):
        HANDLERS[(service, name)] = fn
        return fn
    return deco
