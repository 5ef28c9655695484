module pulumi-kind-dev/test/bed/node-image/kindconsts

go 1.22
