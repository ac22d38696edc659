"""The central's northbound REST API: SOL005 catalog resources and Edgewise's native API."""
