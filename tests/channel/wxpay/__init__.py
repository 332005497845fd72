"""The WeChat Pay adapter against the WeChat Pay simulator, and the simulator on its own."""
