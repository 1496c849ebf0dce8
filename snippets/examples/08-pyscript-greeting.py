# PyScript: read a form field
from pyscript import document, when


@when("submit", "#greet")
def greet(event):
    event.preventDefault()  # stay on the page
    name = document.querySelector("#name").value.strip() or "stranger"
    document.querySelector("#answer").innerText = f"Hello, {name}!"
    print("greeted", name)
