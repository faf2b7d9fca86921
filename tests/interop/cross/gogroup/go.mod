module conveyor.dev/tests/gogroup

go 1.22

require conveyor.dev/conveyor v0.0.0

replace conveyor.dev/conveyor => ../../../../go
