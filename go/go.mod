module conveyor.dev/conveyor

go 1.22
