module kdev/tokenhelper

go 1.22
