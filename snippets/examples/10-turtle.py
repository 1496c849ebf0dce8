# Turtle: a spiral
import turtle

turtle.bgcolor("black")
turtle.speed(0)
turtle.hideturtle()
colors = ["red", "orange", "yellow", "green", "deepskyblue", "violet"]
for i in range(160):
    turtle.pencolor(colors[i % 6])
    turtle.pensize(i / 60 + 1)
    turtle.forward(i * 1.1)
    turtle.left(59)
turtle.done()
