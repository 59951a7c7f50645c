"""The chaos benchmark's parts (`python -m bench.bench_chaos`): private RabbitMQ and Redis servers and the
site's processes under a small supervisor (`services`), the load generator and its model of what every
answered write must have done (`load`), the fault schedule (`faults`), an independent reference
computation of suggestions and mutual friends (`reference`), the checks after the run (`checks`) and the
printed tables (`report`)."""
