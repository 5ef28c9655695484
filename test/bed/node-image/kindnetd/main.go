// Command kindnetd is the test bed's stand-in for kind's kindnetd
// (docker.io/kindest/kindnetd), whose module (sigs.k8s.io/kind/images/kindnetd) the Go
// module proxy here does not serve. It does the part of kindnetd a kind cluster needs,
// for IPv4 single-stack clusters:
//
//   - on its own node (the one whose InternalIP is $HOST_IP) it writes the CNI config
//     /etc/cni/net.d/10-kindnet.conflist: ptp + host-local IPAM over the node's PodCIDR,
//     then portmap; the plugins are in the node image's /opt/cni/bin;
//   - for every other node it keeps a route to that node's PodCIDR via its InternalIP;
//   - it masquerades traffic from $POD_SUBNET to destinations outside it (chain
//     KIND-MASQ-AGENT in the nat table), so pods can reach the docker network and beyond.
//
// It polls the node list every 10s rather than watching; routes and rules are applied
// with the `ip` and `iptables` commands of its image. No network policy support.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

const cniConfigPath = "/etc/cni/net.d/10-kindnet.conflist"

func main() {
	hostIP := os.Getenv("HOST_IP")
	podSubnets := strings.Split(strings.TrimSpace(os.Getenv("POD_SUBNET")), ",")
	if hostIP == "" || podSubnets[0] == "" {
		log.Fatal("HOST_IP and POD_SUBNET must be set")
	}
	config, err := rest.InClusterConfig()
	if err != nil {
		log.Fatalf("in-cluster config: %v", err)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		log.Fatalf("client: %v", err)
	}
	log.Printf("kindnetd (test bed): host %s, pod subnets %v, apiserver %s", hostIP, podSubnets, config.Host)

	lastConfig := ""
	for {
		if err := syncMasquerade(podSubnets); err != nil {
			log.Printf("masquerade rules: %v", err)
		}
		nodes, err := client.CoreV1().Nodes().List(context.Background(), metav1.ListOptions{})
		if err != nil {
			log.Printf("listing nodes: %v", err)
			time.Sleep(2 * time.Second)
			continue
		}
		for _, node := range nodes.Items {
			ip := internalIPv4(node)
			cidr := podCIDRv4(node)
			if ip == "" || cidr == "" {
				continue
			}
			if ip == hostIP {
				conf, err := cniConfig(cidr, eth0MTU())
				if err != nil {
					log.Printf("cni config: %v", err)
					continue
				}
				if conf != lastConfig {
					if err := writeAtomic(cniConfigPath, conf); err != nil {
						log.Printf("writing %s: %v", cniConfigPath, err)
						continue
					}
					lastConfig = conf
					log.Printf("wrote %s for pod CIDR %s", cniConfigPath, cidr)
				}
				continue
			}
			if out, err := exec.Command("ip", "route", "replace", cidr, "via", ip).CombinedOutput(); err != nil {
				log.Printf("route %s via %s: %v: %s", cidr, ip, err, out)
			}
		}
		time.Sleep(10 * time.Second)
	}
}

func internalIPv4(node corev1.Node) string {
	for _, a := range node.Status.Addresses {
		if a.Type == corev1.NodeInternalIP {
			if ip := net.ParseIP(a.Address); ip != nil && ip.To4() != nil {
				return a.Address
			}
		}
	}
	return ""
}

func podCIDRv4(node corev1.Node) string {
	cidrs := node.Spec.PodCIDRs
	if len(cidrs) == 0 && node.Spec.PodCIDR != "" {
		cidrs = []string{node.Spec.PodCIDR}
	}
	for _, c := range cidrs {
		if ip, _, err := net.ParseCIDR(c); err == nil && ip.To4() != nil {
			return c
		}
	}
	return ""
}

func eth0MTU() int {
	if i, err := net.InterfaceByName("eth0"); err == nil {
		return i.MTU
	}
	return 0
}

func cniConfig(cidr string, mtu int) (string, error) {
	ptp := map[string]any{
		"type":   "ptp",
		"ipMasq": false,
		"ipam": map[string]any{
			"type":    "host-local",
			"dataDir": "/run/cni-ipam-state",
			"routes":  []any{map[string]string{"dst": "0.0.0.0/0"}},
			"ranges":  []any{[]any{map[string]string{"subnet": cidr}}},
		},
	}
	if mtu > 0 {
		ptp["mtu"] = mtu
	}
	conf := map[string]any{
		"cniVersion": "0.3.1",
		"name":       "kindnet",
		"plugins": []any{
			ptp,
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}},
		},
	}
	b, err := json.MarshalIndent(conf, "", "  ")
	return string(b) + "\n", err
}

// writeAtomic writes under a name CNI ignores, then renames, so containerd never reads
// half a file.
func writeAtomic(path, content string) error {
	tmp := path + ".temp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// syncMasquerade keeps: POSTROUTING -> KIND-MASQ-AGENT for non-local destinations;
// in the chain, RETURN for pod-subnet destinations, then MASQUERADE.
func syncMasquerade(podSubnets []string) error {
	const chain = "KIND-MASQ-AGENT"
	ipt := func(args ...string) error {
		out, err := exec.Command("iptables", append([]string{"-w", "5", "-t", "nat"}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("iptables %v: %v: %s", args, err, out)
		}
		return nil
	}
	if ipt("-S", chain) != nil {
		if err := ipt("-N", chain); err != nil {
			return err
		}
	}
	jump := []string{"POSTROUTING", "-m", "addrtype", "!", "--dst-type", "LOCAL", "-m", "comment",
		"--comment", "kind-masq-agent: ensure nat POSTROUTING directs all non-LOCAL destination traffic to our custom KIND-MASQ-AGENT chain",
		"-j", chain}
	if ipt(append([]string{"-C"}, jump...)...) != nil {
		if err := ipt(append([]string{"-A"}, jump...)...); err != nil {
			return err
		}
	}
	want := [][]string{}
	for _, s := range podSubnets {
		want = append(want, []string{"-d", s, "-m", "comment", "--comment", "kind-masq-agent: local traffic is not subject to MASQUERADE", "-j", "RETURN"})
	}
	want = append(want, []string{"-m", "comment", "--comment", "kind-masq-agent: outbound traffic is subject to MASQUERADE (must be last in chain)", "-j", "MASQUERADE"})
	ok := true
	for _, r := range want {
		if ipt(append([]string{"-C", chain}, r...)...) != nil {
			ok = false
			break
		}
	}
	if ok {
		return nil
	}
	if err := ipt("-F", chain); err != nil {
		return err
	}
	for _, r := range want {
		if err := ipt(append([]string{"-A", chain}, r...)...); err != nil {
			return err
		}
	}
	return nil
}
