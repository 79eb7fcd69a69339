"""Many microphones, one brain, over Wyoming (the ``wyoming`` package): the services
``assistant wyoming`` offers (asr, tts, wake, intent, handle), the hub that connects to
satellites the way Home Assistant does, and this project's own satellite."""
