package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/tensorwasm/obsbundle/internal/specgen"
)

func main() {
	seed, _ := strconv.ParseUint(os.Args[1], 10, 64)
	i, _ := strconv.Atoi(os.Args[2])
	g := specgen.Generate(seed, i)
	fmt.Print(string(specgen.YAML(g.Spec)))
}
