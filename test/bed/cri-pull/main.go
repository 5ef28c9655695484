// cri-pull talks to containerd's CRI plugin the way the kubelet does, so a pull goes through
// the CRI registry configuration (config_path and its hosts.toml files) and not through ctr's
// own resolver. It is a test-bed tool, built into the node stand-in image.
//
//	cri-pull version          CRI runtime name and version (readiness check)
//	cri-pull config           the CRI plugin's effective config as JSON (Status, verbose)
//	cri-pull status           the runtime's conditions (Status) as JSON: RuntimeReady, NetworkReady
//	cri-pull runtime-config   the RuntimeConfig answer as JSON (CRI v1.30+; containerd 2.0+)
//	cri-pull pull IMAGE       pulls IMAGE, prints the image reference it resolved to
//	cri-pull inspect IMAGE    prints the image's repo tags and digests when present locally
//
// The socket defaults to /run/containerd/containerd.sock ($CRI_ENDPOINT overrides).
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func main() {
	if len(os.Args) < 2 {
		fail("usage: cri-pull version|config|status|runtime-config|pull IMAGE|inspect IMAGE")
	}
	endpoint := os.Getenv("CRI_ENDPOINT")
	if endpoint == "" {
		endpoint = "/run/containerd/containerd.sock"
	}
	conn, err := grpc.NewClient("unix://"+endpoint, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		fail("connect %s: %v", endpoint, err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rt := runtime.NewRuntimeServiceClient(conn)
	img := runtime.NewImageServiceClient(conn)

	switch os.Args[1] {
	case "version":
		v, err := rt.Version(ctx, &runtime.VersionRequest{})
		if err != nil {
			fail("version: %v", err)
		}
		fmt.Printf("%s %s (CRI %s)\n", v.RuntimeName, v.RuntimeVersion, v.RuntimeApiVersion)
	case "config":
		s, err := rt.Status(ctx, &runtime.StatusRequest{Verbose: true})
		if err != nil {
			fail("status: %v", err)
		}
		fmt.Println(s.Info["config"])
	case "status":
		s, err := rt.Status(ctx, &runtime.StatusRequest{})
		if err != nil {
			fail("status: %v", err)
		}
		conditions := []map[string]any{}
		for _, c := range s.GetStatus().GetConditions() {
			conditions = append(conditions, map[string]any{"type": c.Type, "status": c.Status, "reason": c.Reason})
		}
		out, _ := json.Marshal(map[string]any{"conditions": conditions})
		fmt.Println(string(out))
	case "runtime-config":
		r, err := rt.RuntimeConfig(ctx, &runtime.RuntimeConfigRequest{})
		if err != nil {
			fail("runtime config: %v", err)
		}
		out, _ := json.Marshal(map[string]any{"cgroupDriver": r.GetLinux().GetCgroupDriver().String()})
		fmt.Println(string(out))
	case "pull":
		need(2)
		r, err := img.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: os.Args[2]}})
		if err != nil {
			fail("pull %s: %v", os.Args[2], err)
		}
		fmt.Println(r.ImageRef)
	case "inspect":
		need(2)
		r, err := img.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: os.Args[2]}})
		if err != nil {
			fail("image status %s: %v", os.Args[2], err)
		}
		if r.Image == nil {
			fail("image %s: not present", os.Args[2])
		}
		out, _ := json.Marshal(map[string]any{"id": r.Image.Id, "repoTags": r.Image.RepoTags, "repoDigests": r.Image.RepoDigests})
		fmt.Println(string(out))
	default:
		fail("unknown command %q", os.Args[1])
	}
}

func need(n int) {
	if len(os.Args) <= n {
		fail("%s: missing argument", os.Args[1])
	}
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "cri-pull: "+format+"\n", args...)
	os.Exit(1)
}
