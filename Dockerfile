# slipstream on Debian 12. A thin wrapper around ./setup.sh, which is what the
# test suite exercises, so the image cannot drift from the tested set-up.
FROM debian:12
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends sudo ca-certificates git >/dev/null
WORKDIR /opt/slipstream
COPY . .
RUN ./setup.sh --no-run
# RTSP output, and the HTTP API (cameras added at run time, /livez, /readyz)
EXPOSE 8554 9000
# Point RTSPINPUT at your cameras: docker run -e RTSPINPUT=rtsp://cam/stream -p 8554:8554 slipstream
ENTRYPOINT ["./build/app/slipstream/slipstream"]
