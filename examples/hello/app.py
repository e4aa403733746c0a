"""An example function for the compose stack: greets whoever the event names."""


def handler(event, context):
    name = event.get("name", "world") if isinstance(event, dict) else "world"
    return {"greeting": f"Hello, {name}!", "event": event}
