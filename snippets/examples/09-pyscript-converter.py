# PyScript: a live temperature converter
from pyscript import document, when


@when("input", "#celsius")
def convert(event):
    text = document.querySelector("#celsius").value
    try:
        c = float(text)
    except ValueError:
        result = "Type a number"
    else:
        result = f"{c:g} °C = {c * 9 / 5 + 32:.1f} °F = {c + 273.15:.2f} K"
    document.querySelector("#result").innerText = result
