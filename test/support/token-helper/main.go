// docker-credential-kdev-token: a docker-credential-helpers program whose answer expires, as
// ECR's tokens do. `get` answers the user "ci" and the secret "<seed>-<window>", where the window
// is the Unix time divided by the period: a new secret every period seconds. Seed and period are
// set at build time (-ldflags "-X main.seed=... -X main.period=..."). Static (CGO_ENABLED=0), so
// it runs in a cache image FROM scratch.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

var (
	seed   = "kdev"
	period = "60"
)

func main() {
	if len(os.Args) != 2 || os.Args[1] != "get" {
		fmt.Println("only get is supported")
		os.Exit(1)
	}
	p, err := strconv.ParseInt(period, 10, 64)
	if err != nil || p <= 0 {
		fmt.Println("bad period")
		os.Exit(1)
	}
	if _, err := io.ReadAll(os.Stdin); err != nil {
		os.Exit(1)
	}
	secret := fmt.Sprintf("%s-%d", seed, time.Now().Unix()/p)
	_ = json.NewEncoder(os.Stdout).Encode(map[string]string{"Username": "ci", "Secret": secret})
}
