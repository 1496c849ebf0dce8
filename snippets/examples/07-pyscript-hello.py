# PyScript: a page with a button
from pyscript import display, document, when

display("Hello from PyScript! This line comes from main.py.")
count = 0


@when("click", "#count")
def clicked(event):
    global count
    count += 1
    document.querySelector("#clicks").innerText = f"Clicked {count} time{'s' if count != 1 else ''}"
    print("click", count)
