FROM scratch
COPY files/pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
